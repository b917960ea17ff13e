"""Helpers the tests share (not tests): real engines, peers and Lightning jobs."""

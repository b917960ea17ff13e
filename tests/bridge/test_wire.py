"""The bridge's wire format: data <-> JSON + raw buffers, signatures, limits, replays.

No sockets here: the frames a sender makes are fed straight to ``wire.decode``.
"""
import hashlib
import hmac
import json
import math
import pickle
import struct

import numpy as np
import pytest
import torch

from vae_widgets.bridge import codec, wire

TOKEN = "t" * 43
KEY = wire.key_from_token(TOKEN)
LIMITS = wire.Limits()


def roundtrip(body, mtype=wire.EVENT, limits=LIMITS):
    frames, seq = wire.Signer(TOKEN).encode(mtype, body)
    return wire.decode([bytes(f) for f in frames], KEY, limits)


def sign(parts, key=KEY):
    """The signature as the wire defines it: HMAC-SHA256 over length-prefixed parts."""
    h = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        h.update(struct.pack("<Q", len(p)) + p)
    return h.digest()


def frames_with(header: dict, buffers=(), key=KEY):
    head = json.dumps(header).encode()
    return [sign([head, *buffers], key), head, *buffers]


def header(**over):
    h = {"v": 1, "type": "event", "session": "s" * 32, "seq": 1, "time": 0.0, "arrays": [],
         "body": {"kind": "notice", "data": {"message": "hi"}}}
    h.update(over)
    return h


# ------------------------------------------------------------------ codec
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int16", "int32",
                                   "int64", "uint8", "uint16", "uint32", "bool"])
def test_every_whitelisted_dtype_round_trips_with_shape_and_values(dtype):
    rng = np.random.default_rng(0)
    a = (rng.random((3, 4, 5)) * 100).astype(dtype)
    msg = roundtrip({"kind": "images", "data": {"array": a}})
    out = msg.body["data"]["array"]
    assert out.dtype == np.dtype(dtype) and out.shape == (3, 4, 5)
    np.testing.assert_array_equal(out, a)
    out[0, 0, 0] = 1            # a plain writable array, like a local engine's
    assert msg.body["kind"] == "images"


def test_nested_data_nan_inf_none_and_numpy_scalars_survive():
    data = {"row": {"iteration": np.int64(25), "kl": float("nan"), "phase": "main",
                    "hi": float("inf"), "lo": -math.inf, "flag": np.bool_(True), "none": None,
                    "f32": np.float32(0.5)},
            "rows": [{"a": 1}, {"b": [1, 2.5, "x", None]}], "shape": (1797, 2),
            "kl_per_dim": np.array([0.1, np.nan, np.inf], dtype=np.float32)}
    out = roundtrip({"kind": "kl", "data": data}).body["data"]
    row = out["row"]
    assert row["iteration"] == 25 and type(row["iteration"]) is int
    assert math.isnan(row["kl"]) and row["hi"] == math.inf and row["lo"] == -math.inf
    assert row["flag"] is True and row["none"] is None and row["f32"] == 0.5
    assert out["rows"] == [{"a": 1}, {"b": [1, 2.5, "x", None]}]
    assert out["shape"] == [1797, 2]            # tuples arrive as lists (JSON)
    k = out["kl_per_dim"]
    assert k.dtype == np.float32 and np.isnan(k[1]) and np.isinf(k[2])


def test_big_endian_strided_empty_zero_d_arrays_and_tensors_travel():
    be = np.arange(6, dtype=">f8").reshape(2, 3)
    strided = np.arange(20, dtype=np.float32).reshape(4, 5)[:, ::2]
    data = {"be": be, "strided": strided, "empty": np.zeros((0, 2), np.float32),
            "scalar": np.array(3.5), "tensor": torch.arange(4, dtype=torch.float32)}
    out = roundtrip({"kind": "x", "data": data}).body["data"]
    assert out["be"].dtype == np.dtype("<f8")
    np.testing.assert_array_equal(out["be"], be)
    np.testing.assert_array_equal(out["strided"], strided)
    assert out["empty"].shape == (0, 2)
    assert out["scalar"].shape == () and out["scalar"] == 3.5
    np.testing.assert_array_equal(out["tensor"], [0, 1, 2, 3])


@pytest.mark.parametrize("value, words", [
    (np.zeros(3, dtype=np.complex64), "complex64 cannot travel"),
    (np.array(["a", "b"]), "cannot travel"),
    (np.array([object()], dtype=object), "object cannot travel"),
    (np.zeros(2, dtype=np.uint64), "uint64 cannot travel"),
    (object(), "a object cannot travel"),
    ({1: "x"}, "dict key 1 is not a string"),
    ({"$nd": 0}, "reserved"),
    (1 + 2j, "a complex cannot travel"),
])
def test_what_cannot_travel_is_refused_with_where_it_sits(value, words):
    with pytest.raises(TypeError, match=words) as info:
        codec.pack({"outer": [value]})
    assert "data['outer'][0]" in str(info.value)


def test_a_message_never_contains_a_pickle():
    frames, _ = wire.Signer(TOKEN).encode(wire.EVENT, {"kind": "frame", "data": {
        "embedding": np.ones((4, 2), np.float32), "phase": "main"}})
    head = bytes(frames[1])
    assert json.loads(head)["arrays"] == [["<f4", [4, 2]]]
    assert head[:1] == b"{" and not head.startswith(pickle.PROTO)     # JSON, not a pickle
    assert bytes(frames[2]) == np.ones((4, 2), "<f4").tobytes()       # the raw buffer


# ------------------------------------------------------------------ signature
def test_sequence_numbers_increase_and_session_is_kept():
    s = wire.Signer(TOKEN)
    seqs = [s.encode(wire.HEARTBEAT, {})[1] for _ in range(3)]
    assert seqs == [1, 2, 3]
    m = wire.decode([bytes(f) for f in s.encode(wire.HEARTBEAT, {})[0]], KEY, LIMITS)
    assert (m.session, m.seq, m.type) == (s.session, 4, "heartbeat")


@pytest.mark.parametrize("part", [1, 2])   # the header, the buffer
def test_any_altered_byte_breaks_the_signature(part):
    frames, _ = wire.Signer(TOKEN).encode(wire.EVENT, {"kind": "frame", "data": {
        "embedding": np.ones((4, 2), np.float32)}})
    frames = [bytearray(bytes(f)) for f in frames]
    frames[part][5] ^= 1
    with pytest.raises(wire.Rejected) as info:
        wire.decode([bytes(f) for f in frames], KEY, LIMITS)
    assert info.value.reason in ("signature",)


def test_moving_bytes_between_frames_breaks_the_signature():
    """Frame boundaries are signed (length prefixes): a plain concatenation MAC would pass."""
    buf = b"  " + np.ones(2, "<f4").tobytes()
    h = header(arrays=[["|u1", [len(buf)]]], body={"kind": "x", "data": {"a": {"$nd": 0}}})
    frames = frames_with(h, [buf])
    shifted = [frames[0], frames[1] + buf[:2], buf[2:]]     # same bytes, other boundary
    with pytest.raises(wire.Rejected, match="signature"):
        wire.decode(shifted, KEY, LIMITS)


@pytest.mark.parametrize("sig, reason_text", [(b"", "no signature"), (b"x" * 31, "malformed"),
                                              (b"\0" * 32, "does not match")])
def test_missing_or_forged_signatures_are_rejected(sig, reason_text):
    frames = frames_with(header())
    with pytest.raises(wire.Rejected, match=reason_text) as info:
        wire.decode([sig, *frames[1:]], KEY, LIMITS)
    assert info.value.reason == wire.R_SIGNATURE


def test_another_token_is_rejected():
    frames, _ = wire.Signer("another token entirely, also long enough").encode(wire.EVENT, {
        "kind": "x", "data": {}})
    with pytest.raises(wire.Rejected) as info:
        wire.decode([bytes(f) for f in frames], KEY, LIMITS)
    assert info.value.reason == wire.R_SIGNATURE


# ------------------------------------------------------------------ structure after the signature
@pytest.mark.parametrize("over, reason, words", [
    ({"v": 2}, "header", "version-1"),
    ({"type": "exec"}, "header", "unknown message type"),
    ({"session": ""}, "header", "session"),
    ({"seq": 0}, "header", "sequence"),
    ({"seq": "1"}, "header", "sequence"),
    ({"body": {"kind": "x"}}, "header", "an event needs"),
    ({"type": "ack", "body": [1, 2]}, "header", "must be a JSON object"),
    ({"type": "command", "body": None}, "header", "must be a JSON object"),
    ({"body": {"kind": "x", "data": {"kind": "y"}}}, "header", "without 'kind'"),
    ({"arrays": [["<f4", [1]]]}, "buffer", "1 buffers|0 buffers"),
])
def test_signed_but_malformed_headers_are_rejected(over, reason, words):
    with pytest.raises(wire.Rejected, match=words) as info:
        wire.decode(frames_with(header(**over)), KEY, LIMITS)
    assert info.value.reason == reason


def test_signed_non_json_header_is_rejected():
    head = b"\x80\x04\x95 not json"     # e.g. a pickle: never loaded
    with pytest.raises(wire.Rejected, match="not JSON") as info:
        wire.decode([sign([head]), head], KEY, LIMITS)
    assert info.value.reason == wire.R_HEADER


@pytest.mark.parametrize("spec, buf, words", [
    (["<c8", [1]], b"\0" * 8, "not allowed"),            # complex: not whitelisted
    (["|O", [1]], b"\0" * 8, "not allowed"),             # object pointers
    ([">f4", [1]], b"\0" * 4, "not allowed"),            # big-endian must be converted first
    (["<f4", [3]], b"\0" * 8, "does not hold"),          # shape and bytes disagree
    (["<f4", [-1]], b"", "bad shape"),
    (["<f4", "12"], b"\0" * 48, "bad shape"),
    (["|b1", [2]], b"\x00\x07", "bool buffer"),
])
def test_buffers_must_match_a_whitelisted_description(spec, buf, words):
    h = header(arrays=[spec], body={"kind": "x", "data": {"a": {"$nd": 0}}})
    with pytest.raises(wire.Rejected, match=words) as info:
        wire.decode(frames_with(h, [buf]), KEY, LIMITS)
    assert info.value.reason == wire.R_BUFFER


@pytest.mark.parametrize("ref", [{"$nd": 1}, {"$nd": "0"}, {"$nd": 0, "x": 1}, None])
def test_array_references_must_point_at_each_buffer_once(ref):
    h = header(arrays=[["<f4", [1]]], body={"kind": "x", "data": {"a": ref}})
    with pytest.raises(wire.Rejected) as info:
        wire.decode(frames_with(h, [b"\0" * 4]), KEY, LIMITS)
    assert info.value.reason == wire.R_BUFFER


def test_size_limits_are_checked_before_the_signature_and_the_json():
    small = wire.Limits(max_header_bytes=256, max_buffer_bytes=64, max_message_bytes=100,
                        max_elements=8, max_buffers=2)
    big_head = header(body={"kind": "x", "data": {"pad": "x" * 300}})
    with pytest.raises(wire.Rejected, match="header of") as info:
        wire.decode(frames_with(big_head), KEY, small)
    assert info.value.reason == wire.R_SIZE
    with pytest.raises(wire.Rejected, match="a buffer of") as info:
        wire.decode([b"sig", b"{}", b"\0" * 65], KEY, small)       # unsigned, still "size"
    assert info.value.reason == wire.R_SIZE
    with pytest.raises(wire.Rejected, match="bytes of buffers"):
        wire.decode([b"sig", b"{}", b"\0" * 60, b"\0" * 60], KEY, small)
    with pytest.raises(wire.Rejected, match="frames") as info:
        wire.decode([b"sig", b"{}", b"", b"", b""], KEY, small)
    assert info.value.reason == wire.R_FRAMES
    many = header(arrays=[["|u1", [9]]], body={"kind": "x", "data": {"a": {"$nd": 0}}})
    with pytest.raises(wire.Rejected, match="exceed the limit") as info:
        wire.decode(frames_with(many, [b"\0" * 9]), KEY, wire.Limits(max_elements=8))
    assert info.value.reason == wire.R_BUFFER


@pytest.mark.parametrize("frames", [[], [b"only one"], [b"\xff" * 32, b"\xfe\xfd", b"\x00"]])
def test_garbage_is_rejected_not_raised(frames):
    with pytest.raises(wire.Rejected) as info:
        wire.decode(frames, KEY, LIMITS)
    assert info.value.reason in (wire.R_FRAMES, wire.R_SIGNATURE)


def test_deeply_nested_signed_json_is_a_rejection_not_a_crash():
    head = b"[" * 200_000 + b"]" * 200_000
    with pytest.raises(wire.Rejected) as info:
        wire.decode([sign([head]), head], KEY, wire.Limits(max_header_bytes=1 << 20))
    assert info.value.reason == wire.R_HEADER


# ------------------------------------------------------------------ replays
def test_replay_guard_rejects_replayed_and_reordered_per_session():
    s1, s2 = wire.Signer(TOKEN), wire.Signer(TOKEN)
    m = [wire.decode([bytes(f) for f in s1.encode(wire.HEARTBEAT, {})[0]], KEY, LIMITS)
         for _ in range(3)]
    guard = wire.ReplayGuard()
    guard.check(m[0])
    guard.check(m[2])
    for late in (m[1], m[2], m[0]):             # reordered, replayed, replayed
        with pytest.raises(wire.Rejected, match="replayed or reordered") as info:
            guard.check(late)
        assert info.value.reason == wire.R_STALE
    other = wire.decode([bytes(f) for f in s2.encode(wire.HEARTBEAT, {})[0]], KEY, LIMITS)
    guard.check(other)                          # another session has its own sequence


# ------------------------------------------------------------------ bad arguments
@pytest.mark.parametrize("kw, words", [({"max_buffers": 0}, "max_buffers"),
                                       ({"max_elements": 1.5}, "max_elements")])
def test_limits_must_be_positive_ints(kw, words):
    with pytest.raises(ValueError, match=words):
        wire.Limits(**kw)


@pytest.mark.parametrize("token", ["", None, 123])
def test_empty_or_non_string_tokens_are_refused(token):
    with pytest.raises(TypeError, match="token must be the non-empty string"):
        wire.Signer(token)

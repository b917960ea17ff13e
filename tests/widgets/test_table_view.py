"""Tables in t-SNE: the columns a widget shows, colour switches, hover text, search, the
selection as rows, the hover's request/response and the frame wire format (no browser)."""
import numpy as np
import pandas as pd
import pytest
import traitlets

from conftest import front_end_says
from support.tables import shop
from vae_widgets import TSNESweepWidget, TSNEWidget
from vae_widgets import tables as T
from vae_widgets.widgets import table_view
from vae_widgets.widgets._frames import decode_frame, encode_frame

FAST = dict(early_exaggeration_iter=30, n_iter=30, n_jobs=1, perplexity=10)


def test_features_default_to_numeric_columns_and_every_column_is_kept():
    df = shop()
    w = TSNEWidget(df.drop(columns=["price"]), labels="segment", **FAST)
    assert w.runner.X.shape == (300, 4)           # f1, f2, vip, stars (segment is the label)
    assert [c["name"] for c in w.columns] == ["f1", "f2", "segment", "title", "when", "vip", "stars"]
    assert {c["name"]: c["group"] for c in w.columns}["when"] == "datetime"
    assert w.color == "segment" and w.color_names == ["online", "retail", "wholesale"]
    w = TSNEWidget(df, features=["f1", "f2"], color="price", tooltip=["title", "when"], **FAST)
    np.testing.assert_array_equal(w.runner.X, df[["f1", "f2"]].to_numpy())
    assert [c["feature"] for c in w.columns][:3] == [True, True, False]
    assert w.tooltip_columns == ["title", "when"] and w.color == "price"


def test_separate_features_and_table_and_default_tooltip():
    df = shop()
    emb = np.random.default_rng(1).normal(size=(300, 8))
    w = TSNEWidget(emb, df=df, color="segment", **FAST)
    assert w.runner.X.shape == (300, 8) and w.table is df
    # default hover: the first four columns that are not embedded (all of df here)
    assert w.tooltip_columns == ["f1", "f2", "title", "price"]
    assert w.tooltip_data["columns"] == ["segment", "f1", "f2", "title", "price"]




def test_colour_switch_resets_legend_state_and_checks_names(fake_comm):
    df = shop()
    w = TSNEWidget(df, features=["f1", "f2"], color="segment", **FAST)
    w.emphasized = ["online"]
    w.hidden = "wholesale"
    assert w.emphasized == ["online"] and w.hidden == ["wholesale"]
    with pytest.raises(traitlets.TraitError, match=r"'onlne' is not a category of 'segment'\. "
                                                   r"Did you mean 'online'\?"):
        w.emphasized = ["onlne"]
    w.color = "price"
    assert w.color_kind == "continuous" and w.emphasized == [] and w.hidden == []
    assert w.color_info["missing"] == 30
    with pytest.raises(traitlets.TraitError, match="no categories; colour by a categorical"):
        w.hidden = ["online"]
    with pytest.raises(traitlets.TraitError, match=r"color='pirce' is not a column of the table\. "
                                                   r"Did you mean 'price'\?"):
        w.color = "pirce"
    w.color = ""
    assert w.color_kind == "none" and w.color_values is None
    # the page sets the colour as the kernel does: the same validation and encoding
    w.set_state({"color": "stars"})
    assert w.color_kind == "categorical" and w.color_names == ["1", "2", "3", "4", "5"]


# ------------------------------------------------------------------ hover text
def test_hover_text_is_formatted_clipped_and_plain(fake_comm):
    df = shop()
    df.loc[df.index[3], "title"] = "word " * 200 + "\n<script>alert(1)</script>"
    w = TSNEWidget(df, features=["f1", "f2"], color="segment",
                   tooltip=["title", "price", "when", "vip", "stars"], **FAST)
    data = dict(zip(w.tooltip_data["columns"], w.tooltip_data["values"]))
    assert list(data) == ["segment", "title", "price", "when", "vip", "stars"]
    long = data["title"][3]
    assert len(long) == T.TEXT_CLIP and long.endswith("…") and "\n" not in long
    assert data["title"][0] == "Order 0: red <b>chair</b>"      # text as it is: the page escapes it
    assert data["price"][0] is None and data["price"][1] == T.format_number(df["price"].iloc[1])
    assert data["when"][0] == df["when"].iloc[0].strftime("%Y-%m-%d %H:%M") or \
        data["when"][0] == df["when"].iloc[0].strftime("%Y-%m-%d")
    assert data["vip"][0] in ("True", "False") and data["stars"][0] == str(df["stars"].iloc[0])
    assert [T.format_number(v) for v in (1234567.0, 0.000012, 3.0, 12.3456, 98765.4, 7)] == [
        "1,234,567", "1.2e-05", "3", "12.35", "98,765.4", "7"]


def test_hover_beyond_the_budget_is_fetched_per_point(fake_comm, monkeypatch):
    monkeypatch.setattr(table_view, "TOOLTIP_BUDGET", 1000)
    monkeypatch.setattr(table_view, "THUMBNAIL_BUDGET", 100)
    rng = np.random.default_rng(3)
    X = rng.random((300, 16))
    w = TSNEWidget(X, df=shop(), color="segment", tooltip=["title"], image_shape=(4, 4), **FAST)
    assert w.tooltip_fetch and w.tooltip_data == {"columns": ["segment", "title"]}
    assert w.thumbnails is None and w.thumbnails_fetch and w.image_shape == [4, 4]
    front_end_says(w, {"type": "rows", "view": "v1", "req": 7, "indices": [5, 299, 300, -1]})
    reply, bufs = w.comm.custom("rows")[-1]
    assert reply["view"] == "v1" and reply["req"] == 7 and reply["indices"] == [5, 299]
    assert reply["values"][1] == [" ".join(shop()["title"].iloc[i].split()) for i in (5, 299)]
    assert reply["thumbnails"] == [4, 4]
    pix = np.frombuffer(bytes(bufs[0]), np.uint8).reshape(2, 4, 4)
    lo, hi = X.min(), X.max()                    # scaled by the whole data's range
    np.testing.assert_array_equal(pix[0].reshape(-1),
                                  np.clip((X[5] - lo) * 255 / (hi - lo) + 0.5, 0, 255).astype(np.uint8))
    # under the budget nothing is fetched
    monkeypatch.setattr(table_view, "TOOLTIP_BUDGET", 10**9)
    w.tooltip_columns = ["title", "price"]
    assert not w.tooltip_fetch and len(w.tooltip_data["values"][2]) == 300


# ------------------------------------------------------------------ search
def test_search_is_a_case_insensitive_substring_over_the_search_columns(fake_comm):
    df = shop()
    w = TSNEWidget(df, features=["f1", "f2"], color="segment", tooltip=["title", "price"], **FAST)
    assert w.search_columns == ["segment", "title"]        # text and categories, not numbers
    hits = w.search("  RED ")
    expect = np.flatnonzero(df["title"].str.contains("red").to_numpy())
    np.testing.assert_array_equal(hits, expect)
    assert w.n_matches == len(expect) == 43 and w.matches.dtype == np.uint32
    assert len(w.search("ONLINE")) == (df["segment"] == "online").sum()
    assert len(w.search("<b>chair</b>")) == 300 and len(w.search("")) == 0
    assert w.matches is None and w.n_matches == 0
    w.search("red")
    assert w.select_matches() == expect.tolist() and w.selected == expect.tolist()
    # named search columns stay named when the colour changes; numbers are searched as text
    w.search_columns = ["price"]
    w.color = "when"
    assert w.search_columns == ["price"]
    assert len(w.search(T.format_number(df["price"].iloc[1]))) >= 1
    # the page types into the box the way Python sets the trait
    w.set_state({"query": "blue"})
    assert w.n_matches == 0                               # "blue" is in title, not price
    w.search_columns = ["title"]
    assert w.n_matches == 300 - 43


# ------------------------------------------------------------------ selection as rows
def test_selected_rows_round_trip_in_the_original_index(fake_comm):
    df = shop()
    w = TSNEWidget(df, features=["f1", "f2"], color="segment", **FAST)
    w.selected = [4, 0, 299]
    rows = w.selected_rows
    assert list(rows.index) == ["o1004", "o1000", "o1299"] and rows.index.name == "order_id"
    pd.testing.assert_frame_equal(rows, df.loc[["o1004", "o1000", "o1299"]])
    # from rows back to points: positions in the table
    w.selected = df.index.get_indexer(rows.index)
    assert w.selected == [4, 0, 299]
    # an array X: the labels and the embedded features
    X = np.random.default_rng(0).normal(size=(50, 3))
    v = TSNEWidget(X, labels=np.arange(50) % 3, perplexity=5, n_jobs=1)
    v.selected = [1, 2]
    r = v.selected_rows
    assert list(r.columns) == ["label", "x0", "x1", "x2"] and list(r["label"]) == [1, 2]
    np.testing.assert_allclose(r[["x0", "x1", "x2"]].to_numpy(), X[[1, 2]])


def test_sweep_shares_the_table_traits(fake_comm):
    df = shop()
    s = TSNEWidget.sweep(df, [5, 10], features=["f1", "f2"], color="segment",
                         tooltip=["title"], n_jobs=1, n_iter=10, early_exaggeration_iter=10)
    assert isinstance(s, TSNESweepWidget) and s.color_names == ["online", "retail", "wholesale"]
    assert s.tooltip_data["columns"] == ["segment", "title"]
    s.selected = [2, 3]
    assert list(s.selected_rows.index) == ["o1002", "o1003"]
    assert len(s.search("red")) == 43


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize("kwargs, error, match", [
    (dict(features=["f1", "nope"]), ValueError, r"features: \['nope'\] is not a column of X"),
    (dict(features=["f1", "title"]), TypeError, r"features: columns \['title'\] are not numeric"),
    (dict(features="f1"), TypeError, r"features must be a list of column names"),
    (dict(features=["f1", "price"]), ValueError, r"feature columns \['price'\] have missing values "
                                                 r"\(30 rows in 'price'\).*features=\[\.\.\.\]"),
    (dict(color="segmnt"), ValueError, r"color='segmnt' is not a column of the table\. Did you mean"),
    (dict(tooltip=["titel"]), traitlets.TraitError, r"tooltip_columns: 'titel' is not a column.*'title'"),
    (dict(labels="sgment"), ValueError, r"labels='sgment' is not a column of X\. Did you mean"),
])
def test_bad_table_arguments_name_the_fix(kwargs, error, match):
    kwargs.setdefault("features", ["f1", "f2"])
    with pytest.raises(error, match=match):
        TSNEWidget(shop(), **kwargs, **FAST)


def test_bad_separate_tables():
    X = np.zeros((300, 3)) + np.arange(300)[:, None]
    with pytest.raises(ValueError, match=r"df has 299 rows but X has 300"):
        TSNEWidget(X, df=shop().iloc[:299], **FAST)
    with pytest.raises(TypeError, match=r"df must be a table"):
        TSNEWidget(X, df=np.zeros((300, 2)), **FAST)
    with pytest.raises(TypeError, match=r"features= picks columns of a DataFrame X"):
        TSNEWidget(X, features=["a"], **FAST)
    with pytest.raises(ValueError, match=r"already has a column 'label'"):
        TSNEWidget(X, df=pd.DataFrame({"label": range(300)}), labels=np.zeros(300), **FAST)


@pytest.mark.filterwarnings("ignore:The Dataframe Interchange Protocol is deprecated")
def test_interchange_protocol_tables_are_read():
    """Tables that are not pandas (polars, pyarrow, ...) arrive through the dataframe
    interchange protocol; here a pandas frame seen only through that protocol."""
    df = shop()[["f1", "f2", "segment", "stars"]].reset_index(drop=True)

    class Foreign:
        def __init__(self, frame):
            self._f = frame

        def __dataframe__(self, nan_as_null=False, allow_copy=True):
            return self._f.__dataframe__(nan_as_null=nan_as_null, allow_copy=allow_copy)

    w = TSNEWidget(Foreign(df), color="segment", **FAST)
    assert w.runner.X.shape == (300, 3) and w.color_names == ["online", "retail", "wholesale"]


# ------------------------------------------------------------------ frames on the wire
def test_frames_between_key_frames_are_quantised_to_half_the_bytes():
    rng = np.random.default_rng(4)
    pos = (rng.normal(size=(10_000, 2)) * [40, 15] + [3, -7]).astype(np.float32)
    head, buf = encode_frame(pos, key=False)
    assert head["encoding"] == "u16" and buf.nbytes == pos.nbytes // 2
    back = decode_frame(head, buf)
    span = pos.max(0) - pos.min(0)
    assert (np.abs(back - pos) <= span / 65535 * 0.5 + 1e-4).all()
    head, buf = encode_frame(pos, key=True)
    assert head == {} and buf.nbytes == pos.nbytes
    np.testing.assert_array_equal(decode_frame(head, buf), pos)
    same = np.ones((5, 2), np.float32)                     # a zero span does not divide by 0
    np.testing.assert_array_equal(decode_frame(*encode_frame(same)), same)


def test_a_run_sends_exact_key_frames_and_quantised_frames_between(fake_comm):
    df = shop()
    w = TSNEWidget(df, features=["f1", "f2"], frame_interval=0.0, early_exaggeration_iter=50,
                   n_iter=50, n_jobs=1, perplexity=10)
    w.run()
    w.wait(60)
    frames = w.comm.custom("frame")
    keys = [c for c, _ in frames if c["key"]]
    between = [(c, b) for c, b in frames if not c["key"]]
    assert keys and between and all(c.get("encoding") == "u16" for c, _ in between)
    assert all("encoding" not in c for c in keys)
    last, buf = frames[-1]
    assert last["key"] and last["iteration"] == 100
    np.testing.assert_array_equal(decode_frame(last, buf[0]), w.embedding.reshape(-1, 2))
    assert w.frame_bytes == sum(b[0].nbytes for _, b in frames)


# ------------------------------------------------------------------ the HTML export follows
def test_export_colours_like_the_widget(fake_comm):
    from bokeh.models import ColorBar, DatetimeTickFormatter, Legend

    from vae_widgets import datasets, export

    df = datasets.reviews(300, seed=2)
    emb = [c for c in df.columns if c.startswith("e")]
    w = TSNEWidget(df, features=emb, color="country", **FAST)
    w.run()
    w.wait(60)

    def models(layout, kind):
        return list(layout.select({"type": kind}))

    lay = export.to_bokeh(w)                     # 30 countries: 20 + "other" + missing
    legend = models(lay, Legend)[0]
    names = [item.label.value for item in legend.items]
    assert names[:-2] == w.color_names[:-1] and names[-2].startswith("other (")
    assert names[-1] == "missing" and legend.title == "country"
    w.color = "date"                              # dates: a colour bar with date ticks
    bars = models(export.to_bokeh(w), ColorBar)
    assert len(bars) == 1 and isinstance(bars[0].formatter, DatetimeTickFormatter)
    lo, hi = bars[0].color_mapper.low, bars[0].color_mapper.high
    assert lo == pytest.approx(w.color_info["lo"] * 1000) and hi > lo


# ------------------------------------------------------------------ the teaching table
def test_reviews_table_is_deterministic_and_mixed():
    from vae_widgets import datasets

    df = datasets.reviews(1000, dims=8, seed=4)
    assert len(df) == 1000 and df.index.name == "review_id" and df.index[0] == "r00001"
    assert list(df.columns) == [f"e{j}" for j in range(8)] + [
        "category", "product", "title", "text", "rating", "price", "date", "country", "verified"]
    pd.testing.assert_frame_equal(df, datasets.reviews(1000, dims=8, seed=4))
    assert not df.equals(datasets.reviews(1000, dims=8, seed=5))
    kinds = {c: T.column_kind(df[c]) for c in df.columns[8:] if c != "title"}
    assert kinds == {"category": "categorical", "product": "categorical", "text": "text", "rating": "categorical", "price": "continuous",
                     "date": "datetime", "country": "categorical", "verified": "boolean"}
    assert df["country"].nunique() > T.MAX_COLORS           # the legend needs its "other" entry
    assert 0 < df["price"].isna().mean() < 0.05 and 0 < df["country"].isna().mean() < 0.03
    # the tone of the text and the rating agree
    unhappy = df["text"].str.contains("refund|damaged|broke")
    assert df.loc[unhappy, "rating"].mean() < df.loc[~unhappy, "rating"].mean() - 1
    with pytest.raises(TypeError, match="n must be an integer"):
        datasets.reviews(10.5)
    with pytest.raises(ValueError, match="dims must be >= 4"):
        datasets.reviews(10, dims=2)


# ---------------------------------------------------------------- missing values: refuse or drop
def gappy(n=120, seed=1):
    """A table with gaps in two feature columns, a text column and a non-default index."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                       "c": rng.normal(size=n), "species": rng.choice(["x", "y", "z"], n)},
                      index=pd.Index([f"row{i}" for i in range(n)], name="id"))
    df.loc[df.index[[3, 10, 11]], "a"] = np.nan
    df.loc[df.index[[10, 50]], "b"] = None
    return df


def test_a_table_with_gaps_is_refused_by_default_and_the_message_offers_the_opt_in(fake_comm):
    with pytest.raises(ValueError, match=r"missing values.*missing='drop'"):
        TSNEWidget(gappy(), labels="species", **FAST)


def test_missing_drop_leaves_those_rows_out_says_so_and_selections_name_the_users_rows(fake_comm):
    df = gappy()
    w = TSNEWidget(df, labels="species", missing="drop", **FAST)
    complete = df[["a", "b", "c"]].notna().all(axis=1).to_numpy()
    assert w.n_points == complete.sum() == len(df) - 4      # rows 3, 10, 11 and 50
    np.testing.assert_array_equal(w.kept_rows, np.flatnonzero(complete))
    assert "4 rows with missing values left out (missing='drop')" in w.info
    assert w.color == "species"                                 # the labels column still colours
    w.selected = [0, 3, 9]                                      # positions among the kept rows
    rows = w.selected_rows
    assert list(rows.index) == list(df.index[np.flatnonzero(complete)[[0, 3, 9]]])
    assert list(rows.index) == ["row0", "row4", "row12"]         # rows 3, 10, 11 were left out
    pd.testing.assert_frame_equal(rows, df.loc[rows.index])


def test_missing_drop_on_an_array_and_a_table_shown_beside_it(fake_comm):
    X = np.random.default_rng(0).normal(size=(80, 5))
    X[[0, 7], 2] = np.nan
    shown = pd.DataFrame({"name": [f"doc {i}" for i in range(80)]})
    w = TSNEWidget(X, df=shown, missing="drop", **FAST)
    assert w.n_points == 78 and list(w.kept_rows[:2]) == [1, 2]
    w.selected = [0]
    assert list(w.selected_rows.index) == [1]                  # the shown table's own index


@pytest.mark.parametrize("bad", ["zap", None, True])
def test_missing_takes_refuse_or_drop(fake_comm, bad):
    with pytest.raises(ValueError, match=r"missing=.*'refuse'.*'drop'"):
        TSNEWidget(gappy(), labels="species", missing=bad, **FAST)


def test_missing_drop_that_would_leave_nothing_says_what_to_do(fake_comm):
    df = gappy()
    df["a"] = np.nan
    with pytest.raises(ValueError, match="leaves no row.*features="):
        TSNEWidget(df, missing="drop", **FAST)

"""Small data sets that need no network (bundled with scikit-learn or generated), and
:func:`load_data`, which turns a name or a .npy / .csv path into a data matrix (the
``--data`` of the command line and of the bridge's t-SNE job)."""
from __future__ import annotations

import pathlib

import numpy as np

#: data sets that :func:`load_data` (``--data``) accepts by name
DATA_NAMES = ("digits", "shapes", "blobs")


def digits(return_images: bool = False):
    """scikit-learn's bundled 8x8 handwritten digits (1,797 samples).

    Returns ``(X, y)``: ``X`` float32 of shape (1797, 64) scaled to [0, 1],
    ``y`` int labels 0-9. With ``return_images=True`` X has shape (1797, 8, 8).
    """
    from sklearn.datasets import load_digits

    d = load_digits()
    X = (d.data / 16.0).astype(np.float32)
    if return_images:
        X = X.reshape(-1, 8, 8)
    return X, d.target.astype(np.int64)


def blobs(n: int = 2000, dims: int = 50, clusters: int = 10, spread: float = 1.0,
          seed: int = 0):
    """A Gaussian mixture for t-SNE teaching: ``clusters`` unit-variance blobs in
    ``dims`` dimensions whose centres lie ``6 * spread`` apart on average.

    Returns ``(X, y)``: float32 (n, dims) and int cluster labels.
    """
    if n < clusters:
        raise ValueError(f"n={n} must be at least clusters={clusters}.")
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0 * spread / np.sqrt(2.0), size=(clusters, dims))
    y = np.arange(n) % clusters
    rng.shuffle(y)
    X = centres[y] + rng.normal(size=(n, dims))
    return X.astype(np.float32), y.astype(np.int64)


# ---------------------------------------------------------------------------------------
# reviews: a table of product reviews with "sentence embeddings", for exploring with t-SNE
# ---------------------------------------------------------------------------------------
REVIEW_CATEGORIES = {
    # category: (products, typical price in EUR, busiest month)
    "kitchen": (("kettle", "frying pan", "knife set", "blender", "coffee grinder", "toaster"), 45, 11),
    "garden": (("hose", "pruning shears", "lawn mower", "planter", "garden chair", "sprinkler"), 60, 4),
    "books": (("novel", "cookbook", "travel guide", "biography", "poetry collection", "atlas"), 18, 12),
    "toys": (("puzzle", "building set", "plush bear", "board game", "kite", "toy train"), 25, 12),
    "electronics": (("headphones", "charger", "smart speaker", "keyboard", "webcam", "e-reader"), 80, 11),
    "sports": (("yoga mat", "running shoes", "water bottle", "tennis racket", "bike light", "dumbbells"), 35, 1),
    "beauty": (("face cream", "shampoo", "hair dryer", "perfume", "nail kit", "sunscreen"), 22, 6),
    "office": (("desk lamp", "notebook", "office chair", "stapler", "monitor stand", "fountain pen"), 40, 9),
}
# what a review says of the product: "The kettle <phrase>." / "It <phrase>."
_PRAISE = ("works perfectly", "is great value for the price", "exceeded my expectations",
           "is sturdy and well made", "is loved by the whole family", "beats the one I had before",
           "is worth every cent")
_FAULT = ("broke after two weeks", "went back for a refund", "stopped working after a month",
          "feels like cheap plastic", "arrived damaged", "is not as described",
          "came with useless instructions")
_MEH = ("does the job", "is fine for occasional use", "is as described, nothing more",
        "is okay but a bit overpriced", "is of average quality")
_ASIDES = {"gift": "Bought it as a gift for my {who}.", "late": "Delivery took {days} days longer than promised.",
           "fast": "Arrived the next day, well packed.", "long": "I have used it every day for {months} months now, "
           "in all kinds of situations, and I will describe my experience in some detail here because the other "
           "reviews did not answer my questions about durability, cleaning and what comes in the box."}
_WHO = ("mother", "father", "sister", "brother", "partner", "neighbour", "colleague", "niece", "son", "daughter")
REVIEW_COUNTRIES = ("Germany", "France", "Italy", "Spain", "Netherlands", "Poland", "Sweden", "Belgium",
                    "Austria", "Denmark", "Portugal", "Czechia", "Ireland", "Finland", "Greece", "Hungary",
                    "Romania", "Norway", "Switzerland", "Slovakia", "Croatia", "Slovenia", "Lithuania",
                    "Latvia", "Estonia", "Luxembourg", "Malta", "Cyprus", "Iceland", "Bulgaria")


def reviews(n: int = 3000, dims: int = 32, seed: int = 0):
    """Product reviews with "sentence embeddings": a realistic-looking table, generated offline.

    Each row is one review: a product of one of 8 categories, a title and a review text
    built from phrases that praise, fault or shrug (some mention a gift, late or fast
    delivery; a few are long), a star rating that follows the tone, a price, a date
    (each category has its busy season), a country (30 of them, a few very common: the
    legend shows the 20 most frequent and groups the rest as "other") and whether the
    purchase was verified. About 2 % of prices and 1 % of countries are missing.

    The columns ``e0 .. e{dims-1}`` play the part of a sentence embedding of the text:
    a direction per category, one for the tone (shared by all categories), one each for
    gifts and delivery complaints, plus noise. So a t-SNE of them shows one island per
    category, each graded by rating, with gift and late-delivery reviews gathering at
    their edges: structure to find by colouring, hovering and searching.

    Returns
    -------
    pandas.DataFrame
        ``n`` rows with the ``dims`` embedding columns first, then ``category``,
        ``product``, ``title``, ``text``, ``rating`` (1-5), ``price`` (EUR),
        ``date``, ``country``, ``verified``; the index is ``review_id`` (``"r00001"``, ...).

    Examples
    --------
    >>> df = reviews(2000)
    >>> emb = [c for c in df.columns if c.startswith("e")]
    >>> TSNEWidget(df, features=emb, color="category", tooltip=["title", "text"])   # doctest: +SKIP
    """
    import pandas as pd

    from ._validation import number

    n = number(n, "n", low=1, integer=True)
    dims = number(dims, "dims", low=4, integer=True)
    seed = number(seed, "seed", low=0, integer=True)
    rng = np.random.default_rng(seed)
    cats = list(REVIEW_CATEGORIES)
    cat = rng.integers(0, len(cats), n)
    prod = rng.integers(0, 6, n)
    tone = np.clip(rng.normal(0.35, 0.75, n), -1.5, 1.5)           # <0 unhappy, >0 happy
    rating = np.clip(np.rint(3 + 1.6 * tone + rng.normal(0, 0.45, n)), 1, 5).astype(np.int64)
    aside = rng.choice(["", "gift", "late", "fast", "long"], n, p=[0.6, 0.14, 0.12, 0.1, 0.04])
    who = rng.integers(0, len(_WHO), n)
    phrase = rng.integers(0, 7, n)
    # embeddings: category + tone + asides + noise
    basis = rng.normal(size=(len(cats) + 3, dims))
    basis /= np.linalg.norm(basis, axis=1, keepdims=True)
    emb = (4.5 * basis[cat] + 3.0 * tone[:, None] * basis[len(cats)]
           + 2.8 * (aside == "gift")[:, None] * basis[len(cats) + 1]
           + 2.8 * (aside == "late")[:, None] * basis[len(cats) + 2]
           + 0.35 * prod[:, None] * rng.normal(size=(1, dims)) / np.sqrt(dims)
           + 0.7 * rng.normal(size=(n, dims)))
    # prices, dates, countries
    typical = np.array([REVIEW_CATEGORIES[c][1] for c in cats], float)
    price = np.round(typical[cat] * rng.lognormal(0, 0.45, n), 2)
    busy = np.array([REVIEW_CATEGORIES[c][2] for c in cats])
    month = np.where(rng.random(n) < 0.35, busy[cat], rng.integers(1, 13, n))
    day = rng.integers(0, 28, n)
    year = rng.choice([2023, 2024], n)
    date = (pd.to_datetime(pd.DataFrame({"year": year, "month": month, "day": day + 1}))
            + pd.to_timedelta(rng.integers(7 * 60, 23 * 60, n), unit="m"))
    weights = 1.0 / np.arange(1, len(REVIEW_COUNTRIES) + 1) ** 1.1
    country = np.asarray(REVIEW_COUNTRIES, dtype=object)[
        rng.choice(len(REVIEW_COUNTRIES), n, p=weights / weights.sum())]
    country[rng.random(n) < 0.01] = None
    price[rng.random(n) < 0.02] = np.nan
    # text
    titles, texts = [], []
    for i in range(n):
        product = REVIEW_CATEGORIES[cats[cat[i]]][0][prod[i]]
        t = tone[i]
        pool = _PRAISE if t > 0.4 else (_FAULT if t < -0.3 else _MEH)
        said = pool[phrase[i] % len(pool)]
        titles.append(f"{product.capitalize()}: {said.removeprefix('is ')}")
        body = [f"The {product} {said}."]
        second = pool[(phrase[i] + 3) % len(pool)]
        if second != said:
            body.append(f"It {second}.")
        if aside[i]:
            body.append(_ASIDES[aside[i]].format(who=_WHO[who[i]], days=2 + who[i], months=3 + who[i]))
        texts.append(" ".join(body))
    df = pd.DataFrame(emb.astype(np.float32), columns=[f"e{j}" for j in range(dims)])
    df = df.assign(
        category=pd.Categorical(np.asarray(cats, dtype=object)[cat], categories=cats),
        product=[REVIEW_CATEGORIES[cats[c]][0][p] for c, p in zip(cat, prod)],
        title=titles, text=texts, rating=rating, price=price, date=date.to_numpy(),
        country=country, verified=rng.random(n) < 0.8)
    df.index = pd.Index([f"r{i + 1:05d}" for i in range(n)], name="review_id")
    return df


# ---------------------------------------------------------------------------------------
# shapes: a procedurally drawn dSprites-like set with known generative factors
# ---------------------------------------------------------------------------------------
SHAPE_NAMES = ("square", "ellipse", "heart")
SHAPE_FACTORS = ("shape", "scale", "rotation", "pos_x", "pos_y")
#: shape sizes in shape units (below): the three shapes cover similar areas
_HALF_EXTENT = 0.16          # half the width of the largest square, as a fraction of the image
_CHUNK = 2048                # images rasterised at once (bounds the temporary arrays)


def shapes(n: int = 10000, size: int = 32, seed: int = 0, *, scales: int = 6,
           rotations: int = 10, positions: int | None = None, antialias: bool = True):
    """A dSprites-like image set with known, discrete generative factors.

    Each image is one white shape on black, drawn from five independent factors
    chosen uniformly at random: ``shape`` (square, ellipse, heart), ``scale``
    (``scales`` values in [0.5, 1]), ``rotation`` (``rotations`` angles in
    [0, 360) degrees), ``pos_x`` and ``pos_y`` (``positions`` values in [0, 1],
    left/top to right/bottom). Shapes are rasterised from signed distance
    functions on the pixel grid (vectorised numpy, anti-aliased edges), so the
    set is generated offline, deterministically from ``seed``, in well under a
    second per 10,000 images at 32x32.

    Because every factor is known, how well a VAE separates them can be measured
    (see :mod:`vae_widgets.vae.disentangle`). As in dSprites, rotation is not
    fully identifiable: a square repeats every 90 degrees and an ellipse every 180.

    Parameters
    ----------
    n : int
        Number of images.
    size : int
        Image side in pixels: 32 or 64.
    seed : int
        Seed of the factor draws (same seed, same images).
    scales, rotations : int
        Number of distinct scales and rotation angles.
    positions : int, optional
        Number of distinct x (and y) positions; default ``size // 2``.
    antialias : bool
        Grey edge pixels from the pixel's coverage (True) or hard 0/1 pixels.

    Returns
    -------
    images : numpy.ndarray
        float32, shape (n, size, size), values in [0, 1].
    factors : pandas.DataFrame
        One row per image, columns ``shape`` (str: square | ellipse | heart),
        ``scale``, ``rotation`` (degrees), ``pos_x``, ``pos_y`` (floats, each
        taking a few discrete values).

    Examples
    --------
    >>> X, factors = shapes(2000, seed=1)
    >>> VAEWidget(X, factors=factors, latent_dim=6, beta=4.0)   # doctest: +SKIP
    """
    import pandas as pd

    from ._validation import number

    n = number(n, "n", low=1, integer=True)
    size = number(size, "size", integer=True)
    if size not in (32, 64):
        raise ValueError(f"size={size} is not supported; use size=32 or size=64.")
    seed = number(seed, "seed", low=0, integer=True)
    scales = number(scales, "scales", low=1, integer=True)
    rotations = number(rotations, "rotations", low=1, integer=True)
    positions = size // 2 if positions is None else number(positions, "positions", low=1,
                                                            integer=True)

    scale_values = np.linspace(0.5, 1.0, scales) if scales > 1 else np.array([1.0])
    rot_values = np.arange(rotations) * (360.0 / rotations)
    pos_values = np.linspace(0.0, 1.0, positions) if positions > 1 else np.array([0.5])

    rng = np.random.default_rng(seed)
    codes = np.stack([rng.integers(0, k, size=n) for k in
                      (len(SHAPE_NAMES), scales, rotations, positions, positions)], axis=1)
    images = np.empty((n, size, size), dtype=np.float32)
    for s in range(0, n, _CHUNK):
        c = codes[s:s + _CHUNK]
        images[s:s + _CHUNK] = _draw(c[:, 0], scale_values[c[:, 1]], rot_values[c[:, 2]],
                                     pos_values[c[:, 3]], pos_values[c[:, 4]], size, antialias)
    factors = pd.DataFrame({
        "shape": np.asarray(SHAPE_NAMES, dtype=object)[codes[:, 0]],
        "scale": scale_values[codes[:, 1]],
        "rotation": rot_values[codes[:, 2]],
        "pos_x": pos_values[codes[:, 3]],
        "pos_y": pos_values[codes[:, 4]],
    })
    return images, factors


def _draw(kind, scale, rot_deg, px, py, size, antialias):
    """Rasterise a batch: (m,) factor arrays -> float32 (m, size, size)."""
    f = np.float32
    m = len(kind)
    # centres keep the largest (rotated) shape inside the frame: [0.25, 0.75] of the side
    cx = ((0.25 + 0.5 * px) * size).astype(f)[:, None, None]
    cy = ((0.25 + 0.5 * py) * size).astype(f)[:, None, None]
    unit = (_HALF_EXTENT * size * scale).astype(f)[:, None, None]   # pixels per shape unit
    t = np.deg2rad(rot_deg).astype(f)[:, None, None]
    cos, sin = np.cos(t), np.sin(t)
    grid = np.arange(size, dtype=f) + f(0.5)                       # pixel centres
    dx = grid[None, None, :] - cx                                  # (m, 1, size)
    dy = grid[None, :, None] - cy                                  # (m, size, 1)
    # into shape coordinates: rotate by -t, y up (so a heart at 0 degrees stands upright)
    u = (cos * dx + sin * dy) / unit
    v = (sin * dx - cos * dy) / unit
    d = np.empty((m, size, size), dtype=f)
    for k, sdf in enumerate((_sd_square, _sd_ellipse, _sd_heart)):
        sel = kind == k
        if sel.any():
            d[sel] = sdf(u[sel], v[sel])
    d *= unit                                                      # back to pixels
    if antialias:
        return np.clip(f(0.5) - d, 0.0, 1.0)
    return (d <= 0).astype(f)


def _sd_square(u, v):
    a = np.float32(0.8)
    qx, qy = np.abs(u) - a, np.abs(v) - a
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    return outside + np.minimum(np.maximum(qx, qy), 0)


def _sd_ellipse(u, v):
    # first-order distance to the implicit curve (x/a)^2 + (y/b)^2 = 1: exact enough
    # within a pixel of the edge, which is all the anti-aliasing looks at
    a, b = np.float32(1.05), np.float32(0.6)
    g = (u / a) ** 2 + (v / b) ** 2 - 1
    grad = 2 * np.hypot(u / (a * a), v / (b * b))
    return g / np.maximum(grad, np.float32(1e-6))


def _sd_heart(u, v):
    # Inigo Quilez's exact heart SDF (tip at (0, 0), lobes up to y ~ 1.1), centred and
    # enlarged to the size of the other shapes
    k = np.float32(1.55)
    x = np.abs(u) / k
    y = v / k + np.float32(0.53)
    upper = np.hypot(x - 0.25, y - 0.75) - np.float32(np.sqrt(2.0) / 4.0)
    w = np.maximum(x + y, 0) * np.float32(0.5)
    lower = np.sqrt(np.minimum(x * x + (y - 1) ** 2, (x - w) ** 2 + (y - w) ** 2)) \
        * np.sign(x - y)
    return np.where(x + y > 1, upper, lower) * k


class DataError(ValueError):
    """``--data`` (or its options) cannot be turned into a data matrix."""


def load_data(spec: str, *, labels_column: str | None = None, image_shape=None, n=None):
    """Resolve ``--data``: a bundled name or a .npy / .csv path.

    Returns ``(X, labels, image_shape, label_name, description)``.
    """
    if spec in DATA_NAMES:
        if spec == "digits":
            X, y = digits()
            X, y = (X[:n], y[:n]) if n else (X, y)
            return X, y, (8, 8), "digit", f"digits ({len(X):,} 8×8 images)"
        if spec == "blobs":
            X, y = blobs(n=n or 2000)
            return X, y, None, "cluster", f"blobs ({len(X):,} points, {X.shape[1]} dims)"
        images, factors = shapes(n=n or 2000, size=32)
        X = images.reshape(len(images), -1)
        return (X, factors["shape"].to_numpy(), images.shape[1:], "shape",
                f"shapes ({len(X):,} {images.shape[1]}×{images.shape[2]} images)")

    path = pathlib.Path(spec)
    if path.suffix.lower() not in (".npy", ".csv"):
        raise DataError(f"--data {spec!r}: not one of {', '.join(DATA_NAMES)} and not a "
                        f".npy or .csv file.")
    if not path.is_file():
        raise DataError(f"--data {spec!r}: no such file.")
    y, name = None, labels_column or "label"
    if path.suffix.lower() == ".npy":
        try:
            X = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"--data {spec!r}: not a plain numeric .npy array ({exc}).") from None
        if X.ndim in (3, 4) and image_shape is None:        # images: keep their shape
            image_shape = X.shape[1:]
        X = X.reshape(len(X), -1)
        if labels_column:
            raise DataError("--labels names a CSV column; a .npy file has no columns.")
    else:
        import pandas as pd

        df = pd.read_csv(path)
        if labels_column:
            if labels_column not in df.columns:
                raise DataError(f"--labels {labels_column!r}: no such column; the file has "
                                f"{list(df.columns)[:20]}.")
            y = df.pop(labels_column).to_numpy()
        X = df.select_dtypes("number")
        if X.shape[1] == 0:
            raise DataError(f"--data {spec!r}: no numeric columns.")
    X = X[:n] if n else X
    y = y[:n] if (n and y is not None) else y
    return X, y, image_shape, name, f"{path.name} ({len(X):,} rows)"

"""The data sets the engine knows: their names, titles, classes, file names, where their folders are named
(environment variables) and mirrors, and the SHA-256 of their official files.  What they are, not where they
are found or how they are fetched (``engine.download``)."""

from __future__ import annotations

from dataclasses import dataclass

DATA_ENV = "DENOISE_STUDIO_DATA"
URL_ENV = "DENOISE_STUDIO_MNIST_URL"
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


@dataclass(frozen=True)
class DataSource:
    """Where one data set's four files (``MNIST_FILES`` names) are looked for and fetched from."""

    name: str  # canonical: "mnist", "fashion_mnist"
    title: str  # for people: "MNIST", "Fashion-MNIST"
    data_env: str  # the variable naming its folder
    url_env: str  # the variable naming another mirror
    default_url: str
    cache_name: str  # its folder in the per-user cache
    system_folders: tuple[str, ...] = ()  # folders a system package installs it into
    classes: tuple[str, ...] = ()  # what the labels 0-9 mean


SOURCES = {
    "mnist": DataSource(
        "mnist", "MNIST", DATA_ENV, URL_ENV, DEFAULT_URL, "mnist", classes=tuple(str(d) for d in range(10))
    ),
    "fashion_mnist": DataSource(
        "fashion_mnist",
        "Fashion-MNIST",
        "DENOISE_STUDIO_FASHION_MNIST_DATA",
        "DENOISE_STUDIO_FASHION_MNIST_URL",
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "fashion-mnist",
        system_folders=("/usr/share/datasets/fashion-mnist",),
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"),  # fmt: skip
    ),
}
"""The data sets, by canonical name."""


def data_source(name: str) -> DataSource:
    """A data set by name: ``"mnist"``, ``"fashion_mnist"`` (also spelt ``"fashion-mnist"``, any case)."""
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    key = name.strip().lower().replace("-", "_")
    if key not in SOURCES:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(repr(k) for k in SOURCES)}")
    return SOURCES[key]


def trained_on(metadata: dict) -> str:
    """The data set a model was trained on, from its file's metadata; ``"mnist"`` when the file does not say
    (every model before Fashion-MNIST was an MNIST model)."""
    info = metadata.get("dataset") if isinstance(metadata, dict) else None
    name = info.get("name") if isinstance(info, dict) else None
    try:
        return data_source(name).name if name else "mnist"
    except (TypeError, ValueError):
        return str(name)


def default_checksums(name: str = "mnist") -> dict[str, str]:
    """SHA-256 of a data set's decompressed files, by file stem."""
    return MNIST_SHA256 if data_source(name).name == "mnist" else FASHION_MNIST_SHA256

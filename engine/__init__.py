"""Denoise Studio's pure-NumPy neural-network engine (never imports Qt).

Modules by layer; imports point down the list or sideways, never up (``tests/test_import_graph.py``):

- interface: ``cli`` (a package, one module a subcommand: train, evaluate, summary, export), ``__main__``
- training: ``training`` (the one Trainer loop, ``TrainConfig``, ``ResumeState``), ``steps`` (serial or
  data-parallel steps), ``callbacks``, ``checkpoint`` (resume state saved and loaded), ``losses``,
  ``optimizers``, ``histograms`` (each layer's weights and gradients sampled while training)
- the model: ``nn`` (MLP), ``layers`` (Dense), ``activations``, ``initializers``, ``summary``
- analysis: ``baselines`` (every baseline a model is judged against, fitted or tuned on training images
  and kept by a ``BaselineBank``), ``linear_denoiser`` (the best linear denoiser, least squares),
  ``classical`` (scikit-image's filters, strength picked per level), ``pca``, ``metrics`` (MSE, PSNR,
  SSIM), ``robustness``, ``latent`` (codes of a set of images), ``latent_map`` (codes as a 2-D map,
  interpolation), ``pca_check`` (a linear autoencoder against PCA), ``subspaces`` (principal angles),
  ``perturb`` (noisy, pruned or partly switched-off copies of a network), ``lru`` (a bounded cache an
  object owns), ``progress`` (the progress and cancel callbacks long jobs take)
- data: ``dataset`` (MNIST or Fashion-MNIST as batches), ``download`` (where each data set is found),
  ``idx``, ``noise`` (Gaussian, salt-and-pepper, masking; one level or a range), ``preprocess``
  (drawing -> 28x28), ``image_import`` (a user's picture -> 28x28), ``images`` (uint8 / float
  pixel conventions)
- file formats: ``model_format`` (the model file), ``model_limits`` (what a model may be: one rule for
  building, saving and loading), ``model_paths`` (shipped models by name, package data when installed),
  ``safe_npz`` (reading archives without pickle, sizes checked first), ``atomic`` (crash-safe writes),
  ``onnx_export`` (the ONNX file; needs the optional ``onnx``)

The model and training layers never import the data files' reader or the download: they train
on arrays from anywhere.
"""

__version__ = "0.1.0"
"""The package's version (``pyproject.toml`` reads it from here; ``denoise-studio --version`` prints it)."""

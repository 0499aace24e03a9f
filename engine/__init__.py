"""Denoise Studio's pure-NumPy neural-network engine (never imports Qt).

Modules by layer, top to bottom; a module imports only from its own layer or the layers below it
(``tests/test_import_graph.py`` reads this list and checks every import against it):

- interface: ``cli`` (a package, one module a subcommand: train, evaluate, summary, export, runs, sweep),
  ``__main__``
- training runs: ``checkpoint`` (a run's resume state saved and loaded, with its model), ``runs`` (a package,
  the runs database: the SQLite file and its schema, ``RunRecorder`` — the callback on the Trainer that records a
  run —, the thinned curve, crashed-run checks, a sweep's grid)
- the model: ``nn`` (MLP: build, predict, evaluate, save, load; its fit hands the model to the Trainer),
  ``summary`` (the seed's summary text)
- training: ``training`` (the one Trainer loop, ``TrainConfig``, ``ResumeState``, the step a run uses), ``steps``
  (serial or data-parallel steps: a worker thread, or a worker process), ``tensor_parallel`` (a step with each
  layer's units split between two processes), ``shared_memory`` (what such a step shares with its worker process,
  and the worker's start), ``contention`` (when such a step runs alone: another program busy on a core),
  ``subnormals`` (tiny floats taken as zero while training), ``pace`` (a run's images a second over its last
  second), ``callbacks``, ``losses``, ``optimizers``, ``histograms`` (each layer's weights and gradients sampled
  while training); the Trainer takes the model as an argument and never imports nn
- export: ``web_export`` (a model as one self-contained web page that runs it; the page's HTML, CSS and
  scripts are the package data ``engine/web``)
- analysis: ``forward_pass`` (one input through every layer), ``robustness``, ``baselines`` (every baseline a
  model is judged against, fitted or tuned on training images and kept by a ``BaselineBank``),
  ``linear_denoiser`` (the best linear denoiser, least squares), ``classical`` (scikit-image's filters, each
  one's strength picked per level), ``perturb`` (noisy, pruned or partly switched-off copies of a network),
  ``pca_check`` (a linear autoencoder against PCA), ``latent_map`` (codes as a 2-D map, interpolation),
  ``latent`` (codes of a set of images), ``pca``, ``subspaces`` (principal angles), ``metrics`` (MSE, PSNR,
  SSIM), ``lru`` (a bounded cache an object owns), ``progress`` (the progress and cancel callbacks of long jobs)
- data: ``dataset`` (MNIST or Fashion-MNIST as batches), ``download`` (where each data set is found),
  ``data_sources`` (what each data set is: names, classes, files, checksums),
  ``data_files`` (files known by their content: official, in the wrong role, or not official), ``idx``,
  ``image_import`` (a user's picture -> 28x28, each step kept), ``background`` (a photo's paper shading divided
  out, ink kept apart from shadows), ``marks`` (which marks are the digit: not specks, not the desk),
  ``preprocess`` (drawing -> 28x28), ``noise`` (Gaussian, salt-and-pepper, masking; one level or a range),
  ``images`` (uint8 / float pixel conventions)
- file formats: ``model_format`` (the model file), ``model_paths`` (shipped models by name, package data when
  installed), ``onnx_export`` (the ONNX file; needs the optional onnx package), ``output_lock`` (one writer per
  output file), ``safe_npz`` (reading archives without pickle, sizes checked first), ``atomic`` (crash-safe
  writes)
- the model's parts: ``layers`` (Dense), ``skip`` (a skip path from the input: a learned gate or a residual),
  ``activations``, ``initializers``, ``model_limits`` (what a model
  may be: one rule for building, saving and loading), ``run_limits`` (what a run's levels, rates and counts
  may be: one rule for ``TrainConfig``, the CLI and the file's metadata)

The model and training layers never import the data files' reader or the download: they train
on arrays from anywhere.
"""

__version__ = "0.1.0"
"""The package's version (``pyproject.toml`` reads it from here; ``denoise-studio --version`` prints it)."""

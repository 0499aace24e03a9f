"""The Training tab.

- the page: ``tab`` (controls, and the views of a run), ``form`` (settings -> ``TrainConfig``)
- a run: ``run`` (``TrainingRun``: one run on its own thread, steered by flags, heard by signals), ``worker``
  (the thread's body: ``model.fit`` with a callback bridge)
- its views: ``run_progress`` (headline, progress, time left), ``loss_plot``, ``sample_strip``,
  ``histogram_panel`` (weights and gradients per layer), ``pca_check_panel`` (a linear model against PCA)
"""

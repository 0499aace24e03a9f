"""Denoise Studio's desktop app (PySide6 + pyqtgraph) over the engine.

Modules by what they are (each calls the engine for its numbers and holds no maths):

- the app: ``launcher`` (the ``denoise-studio`` entry: CLI or app), ``app`` (the QApplication), ``main_window``
  (menus, tabs, status bar, settings), ``dialogs`` (every error and question), ``guide`` (Help), ``hints``
  (tooltips), ``theme`` (light and dark), ``jobs`` (slow work off the GUI thread), ``when_shown`` (work only
  for a visible widget), ``memory``
- Architecture tab: ``architecture_tab``, ``hourglass_item``, ``weights_view``, ``layer_presets``
- Training tab: ``training_tab`` (the page), ``training_form`` (settings -> ``TrainConfig``), ``training_run``
  (one run on its QThread), ``training_worker`` (the thread's body: ``model.fit`` with a Qt callback),
  ``run_progress``, ``loss_plot``, ``sample_strip``, ``histogram_panel``, ``pca_check_panel``
- Denoise tab: ``denoise_tab`` (the page and its pipeline), ``draw_panel`` (the Draw column) over ``canvas``,
  ``picture_import``, ``image_row``, ``latent_panel`` and ``latent_bars``, ``latent_map_panel``,
  ``robustness_panel``, ``inside_panel`` with ``layer_view`` and ``perturb_panel``
- shared choosers, builders and data: ``data_set_box``, ``noise_kinds``, ``controls`` (a hinted button, a row),
  ``data_sets`` (splits read once per data set)
"""

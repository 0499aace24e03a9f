"""Denoise Studio's desktop app (PySide6 + pyqtgraph) over the engine.

The tree shows the app: the shell here, a subpackage per tab, and the parts several tabs share.  State lives
in two objects that views subscribe to — the app's ``AppState`` (the current model, its name, whether it is
saved, the data sets) and the Denoise tab's ``DenoiseState`` — and views send the user's intent back to them;
no view pushes into another.  Each view calls the engine for its numbers and holds no maths; slow work runs
off the GUI thread through ``common.jobs``.

- the shell: ``launcher`` (the ``denoise-studio`` entry: CLI or app), ``app`` (the QApplication, prepared the
  same for the app and the tests; ``main``), ``app_state`` (``AppState``), ``main_window`` (tabs, status bar,
  settings that persist), ``start_model`` (the model it opens with), ``stored_settings`` (each setting read with
  bounds), ``menus`` (the menu bar as a table), ``file_actions`` (open — all or nothing —, save, save when a run
  ends, recent, shipped models, pictures, exports), ``web_page_export`` (File ▸ Export ▸ Web page…), ``guide``
  (Help)
- ``architecture``: the Architecture tab (the network, its summary and weights, the layer editor)
- ``training``: the Training tab (the form, a run on its thread, where Continue picks a model up, the curves,
  histograms, the PCA check)
- ``denoise``: the Denoise tab (``state``, the Draw column and its inputs, a picture's preparation steps
  (``steps_view``), the images, the code, robustness,
  the latent map, Inside the network and its perturbations)
- ``common``: what several tabs share (``jobs``, ``theme``, ``dialogs``, ``hints``, ``controls``, ``data_sets``,
  ``image_row``, ``hourglass_item``, choosers, ``when_shown``, ``built_when_shown``, ``memory``, ``screen_fit``,
  ``panel_room`` — room for the teaching views —, ``spaced_axis``)
"""

"""Denoise Studio's desktop app (PySide6 + pyqtgraph) over the engine.

The tree shows the app: the shell here, a subpackage per tab, and the parts several tabs share.  State lives
in two objects that views subscribe to — the app's ``AppState`` (the current model, its name, whether it is
saved, the data sets) and the Denoise tab's ``DenoiseState`` — and views send the user's intent back to them;
no view pushes into another.  Each view calls the engine for its numbers and holds no maths; slow work runs
off the GUI thread through ``common.jobs``.

- the shell: ``launcher`` (the ``denoise-studio`` entry: CLI or app), ``app`` (the QApplication, prepared the
  same for the app and the tests; ``main``), ``app_state`` (``AppState``), ``main_window`` (tabs, status bar,
  settings that persist), ``menus`` (the menu bar as a table), ``file_actions`` (open, save, recent, shipped
  models, pictures, exports), ``guide`` (Help)
- ``architecture``: the Architecture tab (the network, its summary and weights, the layer editor)
- ``training``: the Training tab (the form, a run on its thread, the curves, histograms, the PCA check)
- ``denoise``: the Denoise tab (``state``, the Draw column and its inputs, the images, the code, robustness,
  the latent map, Inside the network and its perturbations)
- ``common``: what several tabs share (``jobs``, ``theme``, ``dialogs``, ``hints``, ``controls``, ``data_sets``,
  ``image_row``, ``hourglass_item``, choosers, ``when_shown``, ``memory``, ``screen_fit``, ``panel_room`` — room for
  the teaching views —, ``spaced_axis``)
"""

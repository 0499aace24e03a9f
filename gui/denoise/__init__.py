"""The Denoise tab.

- ``state`` (``DenoiseState``: the model, test set, noise, input, perturbed copy and explored code, and the
  forward pass of what is shown; every part below reads it and sends intent to it), ``tab`` (the page)
- input: ``draw_panel`` (the Draw column's widgets) over ``canvas``, ``inputs`` (strokes, test images and
  pictures into the state), ``picture_import`` (reading a picture file)
- the images: ``result_row`` (clean | noisy | reconstruction | PCA), ``noise_row``, ``data_note``, ``score``
  (the test score for the status bar)
- the pages below: ``latent_panel`` with ``latent_bars`` (the code), ``robustness_panel``,
  ``latent_map_panel``, ``inside_panel`` with ``layer_view``, ``perturb_panel`` and ``perturb_curve``
"""

"""The Architecture tab: ``tab`` (the page: the network as an hourglass, its summary, the layer editor),
``weights_view`` (first-layer weights as 28×28 images), ``layer_presets`` (ready-made architectures and the
training settings they suggest)."""

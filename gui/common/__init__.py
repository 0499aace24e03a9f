"""Parts several tabs share.

- background work: ``jobs`` (``JobRunner``: the newest job of a slot, off the GUI thread; ``JobPool``: the
  application's job threads; a runner ``on_screen`` of a panel runs only while it is shown), ``when_shown``
  (work only for a visible widget; work after a window's first paint), ``built_when_shown`` (a tab's page made
  when first shown), ``memory`` (freed memory back to the system after a run), ``frame_pace`` (a live view's
  frames spaced to a bounded share of the GUI thread)
- data: ``data_sets`` (``DataSets``: each data set's splits read once, a few kept)
- look and words: ``theme`` (light and dark, the application's ``Theme``), ``hints`` (tooltips and status-bar
  hints, a disabled control's reason, the two-line hint strip), ``dialogs`` (every error and question),
  ``noise_kinds`` (the kinds' names and chooser), ``data_set_box`` (the data-set chooser), ``controls`` (a hinted
  button, a row, a chooser whose list shows its entries whole)
- views: ``image_row`` (pixel-sharp 28×28 images with captions), ``hourglass_item`` (the network as an
  hourglass), ``spaced_axis`` (plot ticks that never pile up)
- room: ``screen_fit`` (sizes that fit the screen), ``panel_room`` (a tab page that scrolls in a small window; a
  teaching view enlarged over its tab or in a window of its own, and put back, remembered)
"""

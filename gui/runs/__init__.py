"""The Runs tab: the runs database (``engine.runs``) in the app — every recorded run, compared and repeated.

- ``tab``: the tab (``RunsTab``): the table, the chosen run, the ticked runs compared, a problem's banner
- ``table_model``: the runs as a Qt model (rows formatted off the GUI thread; sorting in the model), its filter
- ``feed``: reading the database off the GUI thread, then polling it for runs that start, change and end
- ``details``: the chosen run in full, its model file's state, and the requests (open, continue, train again)
- ``loss_overlay``, ``robustness_overlay``, ``settings_table``: the ticked runs side by side
- ``problem_banner``: a damaged, locked or newer database, and its remedy (move it aside, try again)
- ``actions``: the window's side: carrying out the tab's requests through the file actions and the Training form
"""

"""One module per component family; each registers itself with hfcourse.viz.registry."""

"""Reports over the stored history: one view model, one module per output format."""

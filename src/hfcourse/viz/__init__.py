"""Interactive components: pure functions (params → figure spec) over real library calls."""

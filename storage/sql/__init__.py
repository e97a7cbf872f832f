"""The shared SQL core: every query both backends run, written once against a small `Dialect`."""

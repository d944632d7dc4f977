"""The blind second review of the double-review sample (calibration)."""

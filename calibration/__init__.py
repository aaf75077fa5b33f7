"""Calibration of migflow to documented figures: targets, fitting, posterior, reports."""

"""E-reputation radar: mention series, anomaly detectors, their NAB evaluation."""

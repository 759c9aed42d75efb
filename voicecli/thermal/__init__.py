"""The machine's heat: sysfs and vcgencmd readers, states with hysteresis, the protection actions,
the one ThermalMonitor and the system sampler."""

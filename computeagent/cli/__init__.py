"""Helpers of the controller command line (computeagent-ctl)."""

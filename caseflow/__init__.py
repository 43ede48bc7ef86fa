"""Caseflow core: settings, models, payloads, rules and lifecycle shared by all parts."""

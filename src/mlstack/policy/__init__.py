"""Governance: rules, policy files, waivers, and reports for `mlstack check` and `fleet`."""

"""Billing: prices, estimates, the usage ledger, budgets and cost reports."""

"""Reporting: municipal and funder figures in aggregate only, with small-cell suppression.

`figures` computes the reports, `suppression` protects small cells and their relations,
`origin` groups country of birth for the national registration model.
"""

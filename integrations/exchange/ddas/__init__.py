"""DDAS v1.2 (vroegsignalering): early signals of payment arrears in, the national delivery out.

`contract` finds and applies the shared JSON Schema (the contract), `reader` streams a delivery
file through it, `importer` stores, matches and routes the signals, `opener` opens their cases in
batches, `results` turns a closed case into its DDAS end result, `export` writes the delivery and
`retention` erases what is due. `codes` holds the standard's code lists. See docs/early-signalling.md.
"""

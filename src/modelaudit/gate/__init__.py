"""The CI gate: pinned models, the lockfile, and the pure decision of `modelaudit check`.

`pins` reads the pins from the registry, `lockfile` reads and writes `modelaudit.lock`,
`observe` turns a probe run into what it says about each pin, `decide` is THE pure
function (pins + observations + lock + today + policy → outcome per pin + exit code),
`rules` names each finding for the formats, `run` wires the probe engine to them, and
`formats/` renders the outcome (one module per format).
"""

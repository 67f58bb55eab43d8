"""Output formats of `modelaudit report`: one module each (table, json_doc, markdown, html),
registered with one line in `modelaudit.report.render.FORMATTERS`. Kept free of imports so
that naming a format (the CLI's option type, from `base`) loads none of them."""

"""modelaudit: audit the reliability of the LLMs you depend on."""

__version__ = "0.1.0"

"""The command line: parse, call one function, render, return an exit code."""

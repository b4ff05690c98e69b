"""docs/architecture.md: its diagrams are what the code gives, and the page stays short."""

from hef_graph.lab.architecture import DOC, generated_block, layer_diagram


def test_the_committed_diagrams_match_the_code():
    assert generated_block() in DOC.read_text(), "run: python -m hef_graph.lab.architecture"


def test_the_layer_diagram_shows_the_runtime_never_importing_the_lab_eagerly():
    diagram = layer_diagram()
    into_lab = [line for line in diagram.splitlines() if line.strip().endswith("lab;")]
    runtime_into_lab = [line for line in into_lab if not line.strip().startswith("benchmarks")]
    assert runtime_into_lab and all("-.->" in line for line in runtime_into_lab)  # the CLI's lab commands only
    assert not any(
        line.strip().startswith("lab ") and line.strip().endswith(" benchmarks;") for line in diagram.splitlines()
    )


def test_the_page_fits_on_about_a_page():
    prose = DOC.read_text().split("<!-- generated")[0] + DOC.read_text().split("<!-- end of generated diagrams -->")[1]
    assert len(prose.split()) < 600

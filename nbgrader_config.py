"""nbgrader configuration of the dlcourse course.

Read by the ``nbgrader`` command-line apps and, explicitly, by ``dlcourse`` (nbgrader's Python
API does not read this file by itself). ``dlcourse`` pins ``CourseDirectory.root`` to the folder
holding this file, so every path below is relative to the course root.
"""

import os

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.converters import GenerateAssignment

c = get_config()  # noqa: F821 -- injected by the traitlets config loader

_HERE = os.path.dirname(os.path.abspath(__file__))

# --- Course layout -------------------------------------------------------------------------
# One id for the gradebook and the exchange; dlcourse runs no JupyterHub exchange.
c.CourseDirectory.course_id = "dlcourse"
# Instructor notebooks (solutions + hidden tests) live in solutions/, the generated student
# notebooks in notebooks/: the folder names say what they hold and students clone notebooks/.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook sits next to this file whatever the working directory (nbgrader's default is
# relative to the cwd), and is gitignored: grades never go into the repository.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(_HERE, "gradebook.db")
# nbgrader's exchange (the Formgrader's release/collect buttons) defaults to the system-wide
# /usr/local/share/nbgrader/exchange, which a single-machine course does not have, so every
# Formgrader page warned that it is missing. Courses here are graded from LMS downloads
# (`dlcourse collect`); the exchange lives inside the course (gitignored), and
# `dlcourse lab --instructor` creates the folder.
c.Exchange.root = os.path.join(_HERE, "exchange")

# --- Autograding ---------------------------------------------------------------------------
# nbgrader's default of 30 s per cell is too short for the training cells of later lectures
# (a few epochs on 2 CPU cores take a minute or two). 300 s leaves room for a slow student
# machine while still stopping an infinite loop. nbgrader's Execute subclasses nbconvert's
# ExecutePreprocessor, so this setting reaches both.
c.ExecutePreprocessor.timeout = 300
# ipykernel >= 7.4 warns on the kernel's own stderr, once per notebook, that it talks over local
# TCP without encryption; graded cells are unaffected (their output is captured separately),
# but grading a class would print the warning hundreds of times. Kernel errors still show.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
# A student who deletes a locked or test cell gets it back instead of silently losing the
# points that cell carries.
c.OverwriteCells.add_missing_cells = True

# --- Grading a class (dlcourse's own settings: plain nbgrader ignores these sections) ---------
# `dlcourse collect` matches every path in an LMS zip against these regular expressions, in
# order; each names who submitted (?P<student>...) and the uploaded file (?P<file>...). The
# default (dlcourse.course.settings.DEFAULT_FILENAME_PATTERNS) knows Canvas, Moodle and a
# folder per student; put your LMS's pattern first, e.g. Blackboard:
# c.DlcourseCollect.filename_patterns = [r"^.*_(?P<student>[^_/]+)_attempt_[\d-]+_(?P<file>[^/]+)$"]
# `dlcourse autograde`: submissions graded at once (--jobs), seconds one notebook may take in all
# (a cell that ignores the per-cell timeout's interrupt, or many slow cells) and the address-space
# limit of each kernel (RLIMIT_AS). 4 GiB leaves room for NumPy + PyTorch (a kernel that has
# imported both maps about 0.7 GB) and turns a runaway allocation into a MemoryError.
c.DlcourseGrading.jobs = 1
c.DlcourseGrading.notebook_time_limit = 900
c.DlcourseGrading.memory_limit_mb = 4096
# Each submission's kernel runs in a bubblewrap sandbox where `bwrap` works (no network, read-only
# course and Python, only a copy of its own folder writable), with a cap on processes (a fork
# bomb) and on the size of any file it writes; its CPU time is capped at notebook_time_limit.
# Without bubblewrap, grading runs unsandboxed and says so; require_sandbox refuses instead.
c.DlcourseGrading.require_sandbox = False
c.DlcourseGrading.max_processes = 256
c.DlcourseGrading.max_file_size_mb = 1024
# Hidden cases from a secret (README, "Integrity of grades"): while grading, the checks draw their
# hidden cases from it, so students cannot run them beforehand with `check_x(f, hidden=True)`.
# Keep it out of the repository, e.g. in a gitignored file next to this one:
# c.DlcourseGrading.hidden_secret = open(os.path.join(_HERE, "hidden_secret.txt")).read().strip()

# --- Releases ------------------------------------------------------------------------------
# What a student sees in place of a solution: a stub that fails loudly (so the test cells
# below it report an error, not a confusing NameError) and says what to do.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("Replace this line with your solution.")'
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Releases are committed and a test asserts they are current, so generating one must give the
# same bytes on every machine. nbgrader already clears outputs and execution counts; this drops
# what the author's front end and kernel leave behind (language_info.version, execution timings,
# collapsed/scrolled flags, widget state) and keeps only what students and nbgrader need.
# It is a configured instance appended to generate_assignment alone: enabling the class globally
# would also run it inside autograde, whose later steps need the nbgrader cell metadata intact.
_release_metadata = ClearMetadataPreprocessor(
    enabled=True,
    clear_notebook_metadata=True,
    clear_cell_metadata=True,
    preserve_nb_metadata_mask={"kernelspec", ("language_info", "name")},
    preserve_cell_metadata_mask={"nbgrader", "deletable", "editable", "tags", "jupyter", "slideshow"},
)
c.GenerateAssignment.preprocessors = [
    *GenerateAssignment.class_traits()["preprocessors"].default(),
    _release_metadata,
]

"""The executor catches what it exists to catch, on small course trees written for each test."""

import json
import textwrap
import time

import pytest

from hfcourse.content import load_course
from hfcourse.execute.compare import outputs_match
from hfcourse.execute.verify import verify, write_report

from test_content import make_course

TINY_BERT = ("BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37, "
             "vocab_size=100)")


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HFCOURSE_HOME", str(tmp_path / "home"))


def section(*cells: str) -> str:
    body = "\n".join(textwrap.dedent(c).strip("\n") + "\n" for c in cells)
    return f'---\nid: "1.1"\ntitle: t\n---\n\n## 1.1.1 三阶段流水线\n\n{body}'


def cell(code: str, output: str | None = None, **opts) -> str:
    lines = ["```{code-cell} python", *(f":{k.replace('_', '-')}: {v}" for k, v in opts.items()),
             textwrap.dedent(code).strip("\n"), "```", ""]
    if output is not None:
        lines += ["```{output}", output, "```", ""]
    return "\n".join(lines)


def run(tmp_path, *cells, update=False):
    root = make_course(tmp_path, section(*cells))
    course = load_course(root, component_names=set())
    results = verify(course.examples, update=update)
    return course, results


def test_passing_example_and_changed_output_diff(tmp_path):
    _, (ok, changed) = run(tmp_path, cell("print(6 * 7)", "42"), cell("print('new text')", "old text"))
    assert ok.status == "passed"
    assert changed.status == "failed"
    assert "-old text" in changed.message and "+new text" in changed.message
    assert "1.1.md:" in changed.message.split("\n")[0]  # headed file:line of the output block


def test_removed_api_fails_with_the_learner_visible_traceback(tmp_path):
    _, (res,) = run(tmp_path, cell("""
        from transformers import TrainingArguments
        TrainingArguments(output_dir="o", evaluation_strategy="epoch")
    """, "x"))
    assert res.status == "error"
    assert 'File "<example 1.1-1>", line 2' in res.message
    assert "unexpected keyword argument 'evaluation_strategy'" in res.message
    assert "hfcourse/execute" not in res.message  # executor frames are hidden


def test_deprecation_fails_unless_declared(tmp_path):
    code = f"""
        import torch
        from transformers import AutoModel, BertConfig
        model = AutoModel.from_config({TINY_BERT}, torch_dtype=torch.float32)
        print(model.dtype)
    """
    _, (plain,) = run(tmp_path, cell(code, "torch.float32"))
    assert plain.status == "error" and "torch_dtype" in plain.message and "deprecat" in plain.message
    _, (declared,) = run(tmp_path / "b", cell(code, "torch.float32", expect_warning="FutureWarning"))
    assert declared.status == "failed"  # runs through; the stored text lacks the logged warning
    _, (updated,) = run(tmp_path / "c", cell(code, expect_warning="FutureWarning"), update=True)
    assert updated.status == "passed" and updated.updated


def test_future_warning_from_a_library_fails(tmp_path):
    _, (res,) = run(tmp_path, cell(f"""
        from transformers import BertConfig, BertModel
        BertModel({TINY_BERT}).gradient_checkpointing_enable()
    """, ""))
    assert res.status == "error" and "FutureWarning from transformers" in res.message


def test_timeout_kills_the_example(tmp_path):
    _, (res,) = run(tmp_path, cell("while True:\n    pass", "", timeout=2))
    assert res.status == "timeout" and 2 <= res.duration < 15


def test_exception_and_non_standalone_example(tmp_path):
    _, (first, second) = run(tmp_path, cell("shared = 1\nprint(shared)", "1"), cell("print(shared + 1)", "2"))
    assert first.status == "passed"
    assert second.status == "error" and "NameError: name 'shared' is not defined" in second.message


def test_update_round_trip_writes_outputs_and_figures_and_nothing_else(tmp_path):
    cells = [cell("print('hello')"), "Some prose between.\n",
             cell("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\nprint('drawn')")]
    course, results = run(tmp_path, *cells, update=True)
    assert [r.status for r in results] == ["passed", "passed"]
    path = course.sections[0].path
    text = path.read_text()
    assert "```{output}\nhello\n```" in text and "Some prose between." in text
    assert ":figures: 1.1-2-1.png" in text and (path.parent / "_figures" / "1.1-2-1.png").exists()
    again = verify(load_course(path.parent.parent, component_names=set()).examples)
    assert [r.status for r in again] == ["passed", "passed"]
    before = text
    verify(load_course(path.parent.parent, component_names=set()).examples, update=True)
    assert path.read_text() == before  # idempotent


def test_cache_makes_the_second_run_instant(tmp_path):
    cells = [cell("import time\ntime.sleep(1.5)\nprint('slow')", "slow")]
    _, (first,) = run(tmp_path, *cells)
    course = load_course(tmp_path / "course", component_names=set())
    (second,) = verify(course.examples)
    assert first.status == second.status == "passed" and not first.cached and second.cached


def test_fresh_interpreter_for_examples_that_set_the_environment(tmp_path):
    _, (res,) = run(tmp_path, cell("""
        import os
        os.environ["HF_HOME"] = os.path.abspath("my-home")
        from huggingface_hub import constants
        print(constants.HF_HOME)
    """, "./my-home"))
    assert res.status == "passed", res.message


def test_multiproc_gloo_all_reduce(tmp_path):
    code = """
        import torch
        import torch.distributed as dist
        dist.init_process_group("gloo")
        t = torch.tensor([dist.get_rank() + 1.0])
        dist.all_reduce(t)
        print(dist.get_rank(), t.item())
        dist.destroy_process_group()
    """
    _, (all_ranks,) = run(tmp_path, cell(code, "[rank0] 0 3.0\n[rank1] 1 3.0", profile="multiproc", ranks="all",
                                         timeout=120))
    assert all_ranks.status == "passed", all_ranks.message
    _, (rank0,) = run(tmp_path / "b", cell(code, "0 3.0", profile="multiproc", timeout=120))
    assert rank0.status == "passed", rank0.message


def test_multiproc_ranks_import_trainer_without_blaming_the_example_for_torch_internals(tmp_path):
    code = """
        import os
        from transformers import Trainer, TrainingArguments
        print(os.environ["RANK"], Trainer.__name__)
    """
    _, (res,) = run(tmp_path, cell(code, "[rank0] 0 Trainer\n[rank1] 1 Trainer", profile="multiproc", ranks="all",
                                   timeout=180))
    assert res.status == "passed", res.message


def test_a_process_stuck_in_teardown_after_reporting_is_not_a_timeout(tmp_path):
    # setting os.environ sends the example to a fresh interpreter; the atexit handler then hangs its teardown
    code = """
        import atexit
        import os
        import time
        os.environ["HFCOURSE_TEARDOWN_TEST"] = "1"
        atexit.register(time.sleep, 300)
        print("done")
    """
    start = time.perf_counter()
    _, (res,) = run(tmp_path, cell(code, "done", timeout=120))
    assert res.status == "passed", res.message
    assert time.perf_counter() - start < 90  # the grace period, not the example's timeout


def test_static_and_gpu_profiles_are_not_run_here(tmp_path):
    _, (static, gpu) = run(tmp_path, cell("raise SystemExit(1)", None, profile="static", reason="需要 Hub"),
                           cell("import torch\nprint(torch.cuda.get_device_name(0))", "x", profile="gpu",
                                reason="需要 GPU"))
    assert static.status == "static" and gpu.status == "needs-gpu" and "needs a GPU" in gpu.message


def test_report_records_status_environment_and_drops_stale_entries(tmp_path):
    course, results = run(tmp_path, cell("print(1)", "1"), cell("print(2)", "3"))
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"examples": {"gone-1": {"status": "passed"}}}))
    write_report(results, {e.id for e in course.examples}, report)
    data = json.loads(report.read_text())
    assert set(data["examples"]) == {"1.1-1", "1.1-2"}
    assert data["examples"]["1.1-1"]["status"] == "passed" and data["examples"]["1.1-2"]["status"] == "failed"
    assert data["environment"]["transformers"].startswith("5.") and "cpu" in data["environment"]["hardware"]


@pytest.mark.parametrize("stored, captured, same", [
    ("loss 0.12345", "loss 0.12346", True),          # last printed decimal
    ("loss 0.1234", "loss 0.1299", False),
    ("ids [1, 2, 3]", "ids [1, 2, 4]", False),        # integers are exact
    ("<object at 0x7f3a1b2c3d4e>", "<object at 0x7f99aa00bb11>", True),
    ("tensor([1.0000e-05])", "tensor([1.0000e-05])", True),
    ("a\nb", "a\nc", False),
])
def test_comparison_forgives_only_legitimate_variation(stored, captured, same):
    assert outputs_match(stored, captured) is same


def test_volatile_lines_ignore_numbers():
    assert outputs_match("耗时 1.23 秒\n结果 5", "耗时 9.87 秒\n结果 5", volatile="耗时")
    assert not outputs_match("耗时 1.23 秒\n结果 5", "耗时 9.87 秒\n结果 6", volatile="耗时")
    # a padded format spec ("{x:7.1f}") shifts the number by its width: still the same volatile line
    assert outputs_match(f"{158.7:7.1f} 条/秒", f"{54.2:7.1f} 条/秒", volatile="条/秒")
    assert not outputs_match(f"{158.7:7.1f} 条/秒", f"{54.2:7.1f} 条/分", volatile="条/秒")


def test_fd_level_output_seeds_and_workspace_are_in_place(tmp_path, monkeypatch):
    # The asset workspace (HFCOURSE_HOME/workspace) holds a tiny model saved from a config: no Hub.
    from transformers import BertConfig, BertModel

    BertModel(eval(TINY_BERT)).save_pretrained(tmp_path / "home" / "workspace" / "test-org" / "tiny-bert")
    _, (c_level, seeded, model, old_dtype) = run(
        tmp_path,
        cell("import os, sys\nprint('py', flush=True)\nos.write(1, b'fd\\n')\nos.system('echo from-shell')", "x"),
        cell("import random, numpy, torch\nprint(random.random(), numpy.random.rand(), torch.rand(1).item())", "x"),
        cell("from transformers import AutoModel\nm = AutoModel.from_pretrained('test-org/tiny-bert')\n"
             "print(m.config.hidden_size)", "32"),
        cell("import torch\nfrom transformers import AutoModel\n"
             "AutoModel.from_pretrained('test-org/tiny-bert', torch_dtype=torch.float32)", ""),
    )
    assert c_level.status == "failed" and "+fd" in c_level.message and "+from-shell" in c_level.message
    import random

    import numpy
    import torch

    random.seed(0), numpy.random.seed(0), torch.manual_seed(0)
    expected = f"{random.random()} {numpy.random.rand()} {torch.rand(1).item()}"
    assert f"+{expected}" in seeded.message  # seeds fixed to 0 before the code runs
    assert model.status == "passed", model.message
    assert old_dtype.status == "error" and "torch_dtype" in old_dtype.message  # the from_pretrained path too


def test_cli_exit_code_jobs_and_path_selection(tmp_path, capsys):
    from hfcourse.cli import main

    root = make_course(tmp_path, section(cell("print(1)", "1"), cell("print(2)", "2"), cell("print(3)", "4")))
    report = tmp_path / "report.json"
    code = main(["verify", "--course", str(root), "--jobs", "2", "--no-cache", "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 1 and "1.1-3" in out and "+3" in out
    data = json.loads(report.read_text())
    assert [data["examples"][f"1.1-{i}"]["status"] for i in (1, 2, 3)] == ["passed", "passed", "failed"]
    assert main(["verify", "--course", str(root), "--report", str(report), "--update"]) == 0
    assert main(["verify", "--course", str(root), "--report", str(report), str(root / "ch01")]) == 0


def test_temp_dir_and_addresses_are_normalised_and_own_warnings_allowed(tmp_path):
    _, (res,) = run(tmp_path, cell("""
        import os, warnings
        warnings.warn("the example's own deprecation", DeprecationWarning)
        print(os.getcwd(), object())
    """, "<example 1.1-1>:2: DeprecationWarning: the example's own deprecation\n"
         "  warnings.warn(\"the example's own deprecation\", DeprecationWarning)\n"
         ". <object object at 0x7f0000000000>"))
    assert res.status == "passed", res.message  # shown as Python shows it, but not a failure

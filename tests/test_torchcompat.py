"""python -m ember.torchcompat: a PyTorch script runs as `python script.py` would (its folder first on sys.path),
and every `import torch` in it, in its spawned DataLoader workers and in Python subprocesses is served by ember."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import subprocess, sys
    import torch
    import torch.backends.cudnn as cudnn
    import torch.multiprocessing as mp
    from torch.utils.data import DataLoader, Dataset
    from sibling import VALUE

    class Items(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            import torch
            return torch.tensor([float(i)]), torch.__name__

    if __name__ == "__main__":
        print("main", torch.__name__, VALUE, cudnn.is_available(), torch.__version__ >= "2.2")
        for x, names in DataLoader(Items(), batch_size=2, num_workers=2, multiprocessing_context="spawn"):
            print("batch", x.view(-1).tolist(), sorted(set(names)))
        child = subprocess.run([sys.executable, "-c", "import torch; print(torch.__name__)"], capture_output=True,
                               text=True)
        print("subprocess", child.stdout.strip())
""")


def test_script_folder_imports_and_child_processes(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "sibling.py").write_text("VALUE = 7\n")
    (folder / "train.py").write_text(SCRIPT)
    out = subprocess.run([sys.executable, "-m", "ember.torchcompat", str(folder / "train.py")], capture_output=True,
                         text=True, cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["main ember 7 False True", "batch [0.0, 1.0] ['ember']",
                                       "batch [2.0, 3.0] ['ember']", "subprocess ember"]

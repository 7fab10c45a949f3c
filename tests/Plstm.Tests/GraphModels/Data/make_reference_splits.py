"""Writes reference_splits.json: the reference's folds (plstm_graph/src/datamodules/tu_datasets.py get_splits,
seed 42) for TU graph labels, computed with scikit-learn. Usage: python make_reference_splits.py LABEL_DIR OUT.json"""
import json, sys
import numpy as np
import sklearn
from sklearn.model_selection import StratifiedKFold, train_test_split

def get_splits(y, seed, fold_idx):
    kfold = StratifiedKFold(n_splits=10, shuffle=True, random_state=seed)
    idx_list = list(kfold.split(np.zeros(len(y)), y))
    train_val_idx, test_idx = idx_list[fold_idx]
    train_idx, val_idx = train_test_split(train_val_idx, train_size=0.888889, random_state=seed, stratify=y[train_val_idx])
    return train_idx, val_idx, test_idx

label_dir, out = sys.argv[1], sys.argv[2]
result = {"sklearn": sklearn.__version__, "numpy": np.__version__, "seed": 42, "datasets": {}}
for name in ["MUTAG", "PTC_FM", "PROTEINS", "NCI1"]:
    raw = np.loadtxt(f"{label_dir}/{name}_graph_labels.txt", dtype=np.int64).reshape(-1)
    _, y = np.unique(raw, return_inverse=True)  # as torch_geometric's TUDataset
    folds = []
    for f in range(10):
        tr, va, te = get_splits(y, 42, f)
        folds.append({"train": tr.tolist(), "val": va.tolist(), "test": te.tolist()})
    result["datasets"][name] = folds
rs = np.random.RandomState(42)
result["randomstate42_first_uint32"] = [int(v) for v in np.frombuffer(rs.bytes(12), dtype="<u4")]
result["randomstate42_random_sample"] = float(np.random.RandomState(42).random_sample())
with open(out, "w") as fh:
    json.dump(result, fh)

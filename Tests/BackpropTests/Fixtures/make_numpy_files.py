"""Small .npy/.npz files written by NumPy itself, for Backprop's reader tests.

Run from this folder: python3 make_numpy_files.py  (writes numpy/*.npy and numpy/*.npz).
"""
import os
import numpy as np

os.makedirs("numpy", exist_ok=True)
base = np.array([[1.5, -2.0, 3.25], [0.0, 4.0, -5.5]])
np.save("numpy/f4.npy", base.astype("<f4"))
np.save("numpy/f8.npy", base.astype("<f8"))
np.save("numpy/i4.npy", np.array([[1, -2, 3], [0, 4, -5]], dtype="<i4"))
np.save("numpy/i8.npy", np.array([7, -8, 9], dtype="<i8"))
np.save("numpy/u1.npy", np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
np.save("numpy/scalar.npy", np.float32(2.5))
np.save("numpy/fortran.npy", np.asfortranarray(base.astype("<f4")))
np.save("numpy/bigendian.npy", base.astype(">f4"))
np.save("numpy/object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)

rng = np.random.default_rng(0)
# Two separable classes of 4-feature points, as a model would train on.
x = np.concatenate([rng.normal(-1, 0.5, (40, 4)), rng.normal(1, 0.5, (40, 4))]).astype(np.float32)
y = np.array([0] * 40 + [1] * 40, dtype=np.int64)
np.savez("numpy/xy.npz", x=x, y=y)
images = rng.integers(0, 256, (30, 6, 6), dtype=np.uint8)
labels = rng.integers(0, 3, 30).astype(np.int64)
np.savez_compressed("numpy/images_compressed.npz", x_train=images[:20], y_train=labels[:20], x_test=images[20:], y_test=labels[20:])

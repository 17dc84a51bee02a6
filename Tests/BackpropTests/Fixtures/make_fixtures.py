"""Reference values for Backprop's tests, computed independently with NumPy (float64).

Run from this folder: python3 make_fixtures.py  (writes reference.json). Inputs are fixed literals
so the file is reproducible.
"""
import json
import numpy as np

x = np.array([-3.0, -1.5, -0.4, 0.3, 0.9, 2.5], dtype=np.float64)
ref = {"x": x.tolist()}
ref["exp"] = np.exp(x).tolist()
ref["log_abs"] = np.log(np.abs(x)).tolist()
ref["tanh"] = np.tanh(x).tolist()
ref["sigmoid"] = (1 / (1 + np.exp(-x))).tolist()
ref["softplus"] = np.log1p(np.exp(x)).tolist()
ref["elu"] = np.where(x > 0, x, 0.7 * (np.exp(x) - 1)).tolist()          # alpha 0.7
ref["leaky_relu"] = np.where(x > 0, x, 0.2 * x).tolist()                   # slope 0.2

logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3], [-4.0, 3.0, 1.0], [1e4, -1e4, 0.0]])
labels = np.array([0, 2, 1, 1])
shifted = logits - logits.max(axis=1, keepdims=True)
log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
ref["logits"] = logits.tolist()
ref["labels"] = labels.tolist()
ref["log_softmax"] = log_softmax.tolist()
ref["cross_entropy"] = float(-log_softmax[np.arange(4), labels].mean())
probs = np.exp(log_softmax)
onehot = np.eye(3)[labels]
ref["cross_entropy_grad"] = ((probs - onehot) / 4).tolist()

bce_logits = np.array([-2.0, -0.5, 0.0, 1.5, 30.0])
bce_targets = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
p = 1 / (1 + np.exp(-bce_logits))
ref["bce_logits"] = bce_logits.tolist()
ref["bce_targets"] = bce_targets.tolist()
ref["bce"] = float(np.mean(-(bce_targets * np.log(p) + (1 - bce_targets) * np.log1p(-p + 1e-300))))

# Optimizers: three steps on f(θ) = Σ c·θ² + d·θ, gradient g = 2cθ + d.
theta0 = np.array([0.5, -1.2, 2.0, 0.0])
c = np.array([1.0, 0.5, 2.0, 3.0])
d = np.array([0.1, -0.3, 0.0, 1.0])
grad = lambda t: 2 * c * t + d
ref["opt_theta0"], ref["opt_c"], ref["opt_d"] = theta0.tolist(), c.tolist(), d.tolist()

def sgd(lr, mu=0.0, nesterov=False):
    t, v, out = theta0.copy(), np.zeros(4), []
    for _ in range(3):
        g = grad(t)
        if mu == 0:
            t = t - lr * g
        else:
            v = mu * v + g
            t = t - lr * (g + mu * v if nesterov else v)
        out.append(t.tolist())
    return out

def adam(lr, b1=0.9, b2=0.999, eps=1e-8):
    t, m, v, out = theta0.copy(), np.zeros(4), np.zeros(4), []
    for step in range(1, 4):
        g = grad(t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        t = t - lr * (m / (1 - b1 ** step)) / (np.sqrt(v / (1 - b2 ** step)) + eps)
        out.append(t.tolist())
    return out

ref["sgd"] = sgd(0.1)
ref["momentum"] = sgd(0.1, 0.9)
ref["nesterov"] = sgd(0.1, 0.9, True)
ref["adam"] = adam(0.05)

a = np.arange(1, 7, dtype=np.float64).reshape(2, 3) / 4
b = np.array([[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0]])
ref["matmul_a"], ref["matmul_b"], ref["matmul"] = a.tolist(), b.tolist(), (a @ b).tolist()

with open("reference.json", "w") as f:
    json.dump(ref, f, indent=1)

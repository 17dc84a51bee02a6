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

def run(rule, clip_norm=None, clip_value=None):
    """Three steps of `rule(t, g, state, step) -> t` after optional clipping."""
    t, state, out = theta0.copy(), {}, []
    for step in range(1, 4):
        g = grad(t)
        if clip_value is not None:
            g = np.clip(g, -clip_value, clip_value)
        if clip_norm is not None:
            norm = np.sqrt((g * g).sum())
            if norm > clip_norm:
                g = g * (clip_norm / norm)
        t = rule(t, g, state, step)
        out.append(t.tolist())
    return out

def sgd_rule(lr, mu=0.0, wd=0.0):
    def rule(t, g, s, step):
        g = g + wd * t
        if mu == 0:
            return t - lr * g
        s["v"] = mu * s.get("v", 0) + g
        return t - lr * s["v"]
    return rule

def adagrad_rule(lr, eps=1e-10):
    def rule(t, g, s, step):
        s["s"] = s.get("s", 0) + g * g
        return t - lr * g / (np.sqrt(s["s"]) + eps)
    return rule

def rmsprop_rule(lr, alpha=0.99, eps=1e-8, mu=0.0, centered=False):
    def rule(t, g, s, step):
        s["v"] = alpha * s.get("v", 0) + (1 - alpha) * g * g
        var = s["v"]
        if centered:
            s["a"] = alpha * s.get("a", 0) + (1 - alpha) * g
            var = var - s["a"] ** 2
        d = g / (np.sqrt(var) + eps)
        if mu > 0:
            s["b"] = mu * s.get("b", 0) + d
            d = s["b"]
        return t - lr * d
    return rule

def adam_rule(lr, b1=0.9, b2=0.999, eps=1e-8, amsgrad=False, wd=0.0, decoupled=False):
    def rule(t, g, s, step):
        if decoupled:
            t = t * (1 - lr * wd)
        else:
            g = g + wd * t
        s["m"] = b1 * s.get("m", 0) + (1 - b1) * g
        s["v"] = b2 * s.get("v", 0) + (1 - b2) * g * g
        v = s["v"]
        if amsgrad:
            s["vmax"] = np.maximum(s.get("vmax", 0), s["v"])
            v = s["vmax"]
        return t - lr * (s["m"] / (1 - b1 ** step)) / (np.sqrt(v / (1 - b2 ** step)) + eps)
    return rule

ref["sgd_weight_decay"] = run(sgd_rule(0.1, 0.9, wd=0.05))
ref["adagrad"] = run(adagrad_rule(0.3))
ref["rmsprop"] = run(rmsprop_rule(0.01))
ref["rmsprop_momentum_centered"] = run(rmsprop_rule(0.01, mu=0.8, centered=True))
ref["amsgrad"] = run(adam_rule(0.5, b2=0.5, amsgrad=True))
ref["adamw"] = run(adam_rule(0.05, wd=0.1, decoupled=True))
ref["adam_l2"] = run(adam_rule(0.05, wd=0.1))
ref["sgd_clip_norm"] = run(sgd_rule(0.1), clip_norm=1.0)
ref["sgd_clip_value"] = run(sgd_rule(0.1), clip_value=0.5)

ref["sgd"] = sgd(0.1)
ref["momentum"] = sgd(0.1, 0.9)
ref["nesterov"] = sgd(0.1, 0.9, True)
ref["adam"] = adam(0.05)

a = np.arange(1, 7, dtype=np.float64).reshape(2, 3) / 4
b = np.array([[1.0, -2.0], [0.5, 0.25], [-1.0, 3.0]])
ref["matmul_a"], ref["matmul_b"], ref["matmul"] = a.tolist(), b.tolist(), (a @ b).tolist()

# Convolution (cross-correlation) on NHWC input with HWIO weights, by explicit loops.
def conv2d(x, w, b, stride, pad, dilation):
    n, h, wd, c = x.shape
    kh, kw, _, o = w.shape
    top, left, bottom, right = pad
    xp = np.zeros((n, h + top + bottom, wd + left + right, c))
    xp[:, top:top + h, left:left + wd, :] = x
    oh = (h + top + bottom - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + left + right - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, oh, ow, o))
    for i in range(oh):
        for j in range(ow):
            for p in range(kh):
                for q in range(kw):
                    patch = xp[:, i * stride + p * dilation, j * stride + q * dilation, :]
                    out[:, i, j, :] += patch @ w[p, q]
    return out + b

rng = np.random.default_rng(0)
cx = np.round(rng.uniform(-1, 1, (2, 5, 6, 3)), 3)
cw = np.round(rng.uniform(-1, 1, (3, 2, 3, 4)), 3)
cb = np.round(rng.uniform(-1, 1, (4,)), 3)
ref["conv_x"], ref["conv_w"], ref["conv_b"] = cx.tolist(), cw.tolist(), cb.tolist()
# stride 2, padding top 1 left 0 bottom 1 right 1, dilation 1
ref["conv_out"] = conv2d(cx, cw, cb, 2, (1, 0, 1, 1), 1).tolist()
# stride 1, no padding, dilation 2
ref["conv_dilated_out"] = conv2d(cx, cw, cb, 1, (0, 0, 0, 0), 2).tolist()

with open("reference.json", "w") as f:
    json.dump(ref, f, indent=1)

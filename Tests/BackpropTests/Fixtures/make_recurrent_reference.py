"""Reference outputs and gradients of PyTorch's nn.RNN, nn.LSTM and nn.GRU for Backprop's
recurrent layers, computed in float64.

Run from this folder: python3 make_recurrent_reference.py  (writes recurrent_reference.json).
Each case: input [batch, steps, features], PyTorch's weights (weight_ih_l0 …), optional initial
states, optional lengths (right padding, through pack_padded_sequence), a direction, and fixed
weights for the loss L = Σ wₛ·output + Σ w_h·h_n (+ Σ w_c·c_n). Stored: the outputs (zeros after
each sequence's length), h_n, c_n and ∂L/∂(input, weights, biases, initial states).
"""
import json
import torch

torch.manual_seed(0)


def case(name, mode, batch, steps, features, units, reverse=False, lengths=None, initial=False, bias=True,
         nonlinearity="tanh"):
    kwargs = dict(batch_first=True, bias=bias)
    if mode == "RNN":
        layer = torch.nn.RNN(features, units, nonlinearity=nonlinearity, **kwargs)
    else:
        layer = getattr(torch.nn, mode)(features, units, **kwargs)
    layer = layer.double()
    with torch.no_grad():
        for p in layer.parameters():
            p.uniform_(-0.6, 0.6)
    x = (torch.rand(batch, steps, features, dtype=torch.float64) * 2 - 1).requires_grad_()
    h0 = (torch.rand(1, batch, units, dtype=torch.float64) - 0.5).requires_grad_() if initial else None
    c0 = (torch.rand(1, batch, units, dtype=torch.float64) - 0.5).requires_grad_() if initial and mode == "LSTM" else None
    lengths_t = torch.tensor(lengths if lengths else [steps] * batch)
    # Reverse: each sequence's real steps reversed in place (padding stays at the end), run, and
    # the outputs reversed back, so they stay aligned with the inputs.
    def flip(t):
        out = t.clone()
        for b in range(batch):
            n = int(lengths_t[b])
            out[b, :n] = t[b, :n].flip(0)
        return out
    inp = flip(x) if reverse else x
    packed = torch.nn.utils.rnn.pack_padded_sequence(inp, lengths_t, batch_first=True, enforce_sorted=False)
    state = None
    if initial:
        state = (h0, c0) if mode == "LSTM" else h0
    out, hidden = layer(packed, state)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=steps)
    if reverse:
        out = flip(out)
    h_n, c_n = (hidden[0][0], hidden[1][0]) if mode == "LSTM" else (hidden[0], None)
    g = torch.Generator().manual_seed(1)
    w_out = torch.rand(out.shape, generator=g, dtype=torch.float64) * 2 - 1
    w_h = torch.rand(h_n.shape, generator=g, dtype=torch.float64) * 2 - 1
    loss = (w_out * out).sum() + (w_h * h_n).sum()
    w_c = None
    if c_n is not None:
        w_c = torch.rand(c_n.shape, generator=g, dtype=torch.float64) * 2 - 1
        loss = loss + (w_c * c_n).sum()
    loss.backward()
    flat = lambda t: t.detach().reshape(-1).tolist()
    entry = dict(
        name=name, cell={"RNN": nonlinearity, "LSTM": "lstm", "GRU": "gru"}[mode], batch=batch, steps=steps,
        features=features, units=units, reverse=reverse, lengths=lengths_t.tolist(), bias=bias,
        input=flat(x), output=flat(out), h_n=flat(h_n), w_out=flat(w_out), w_h=flat(w_h),
        d_input=flat(x.grad))
    if c_n is not None:
        entry.update(c_n=flat(c_n), w_c=flat(w_c))
    for pname, p in layer.named_parameters():
        entry[pname] = flat(p)
        entry["d_" + pname] = flat(p.grad)
    if initial:
        entry.update(h0=flat(h0), d_h0=flat(h0.grad))
        if c0 is not None:
            entry.update(c0=flat(c0), d_c0=flat(c0.grad))
    return entry


cases = [
    case("lstm", "LSTM", 3, 5, 4, 6),
    case("lstm, initial states, lengths 5/3/1", "LSTM", 3, 5, 4, 6, lengths=[5, 3, 1], initial=True),
    case("lstm, reverse, lengths, no bias", "LSTM", 3, 5, 4, 6, reverse=True, lengths=[2, 5, 4], bias=False),
    case("gru", "GRU", 3, 5, 4, 6),
    case("gru, initial state, lengths", "GRU", 3, 5, 4, 6, lengths=[4, 5, 2], initial=True),
    case("gru, reverse", "GRU", 2, 6, 3, 5, reverse=True),
    case("rnn tanh, initial state, lengths", "RNN", 3, 4, 3, 5, lengths=[4, 1, 3], initial=True),
    case("rnn relu, reverse", "RNN", 2, 4, 3, 5, reverse=True, nonlinearity="relu"),
]
with open("recurrent_reference.json", "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f)
print(f"wrote {len(cases)} cases (torch {torch.__version__})")

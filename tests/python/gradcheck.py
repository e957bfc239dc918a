"""Finite-difference gradient checks through bind / backward.

The loss is sum_k <output_k, head_k> with fixed random heads, so backward(heads) must give its
gradient with respect to every argument; central differences in float64 estimate the same.
"""
import numpy as np

import mx


def numeric_gradient(f, x, eps):
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        fp = f()
        flat[i] = old - eps
        fm = f()
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * eps)
    return grad


def check_gradient(sym, location, ctx=None, grad_nodes=None, aux_states=None, eps=1e-6,
                   rtol=1e-5, atol=1e-7, seed=0):
    """Compares backward's gradients of `sym` at `location` (name -> numpy) with central
    differences, for the arguments in grad_nodes (default: all). Returns the analytic ones."""
    ctx = ctx or mx.cpu()
    names = sym.list_arguments()
    grad_nodes = grad_nodes or names
    location = {k: np.array(v, dtype=np.float64) for k, v in location.items()}
    args = {n: mx.nd.array(location[n], ctx, dtype=np.float64) for n in names}
    grads = {n: mx.nd.zeros(location[n].shape, ctx, dtype=np.float64) for n in grad_nodes}
    aux = None
    if aux_states is not None:
        aux = {k: mx.nd.array(v, ctx, dtype=np.float64) for k, v in aux_states.items()}
    exe = sym.bind(ctx, args=args, args_grad=grads, grad_req="write", aux_states=aux)
    exe.forward(is_train=True)
    rng = np.random.RandomState(seed)
    heads = [rng.uniform(-1, 1, size=o.shape) for o in exe.outputs]
    exe.backward([mx.nd.array(h, ctx, dtype=np.float64) for h in heads])
    analytic = {n: grads[n].asnumpy() for n in grad_nodes}

    probe = sym.bind(ctx, args=args, grad_req="null", aux_states=aux)

    def loss():
        for n in names:
            args[n][:] = location[n]
        probe.forward(is_train=True)
        return sum(float((o.asnumpy() * h).sum()) for o, h in zip(probe.outputs, heads))
    for n in grad_nodes:
        numeric = numeric_gradient(loss, location[n], eps)
        np.testing.assert_allclose(analytic[n], numeric, rtol=rtol, atol=atol,
                                   err_msg="gradient of %s" % n)
    return analytic

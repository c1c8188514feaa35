"""jit's backend: a traced jaxpr becomes a program of straight-line numpy calls.

The stages, one module each, in the order a jitted call meets them:

* ``jit.py``: ``fnn.jit`` and ``make_jaxpr``: trace to a jaxpr once per input signature
  and cache the compiled program;
* ``passes.py``: optimize (dead code, common subexpressions, constants, algebraic no-ops);
* ``batch_split.py``: split a training step over chunks of its batch, run on threads;
* ``buffers.py``: plan buffers (in-place donation, an arena of reused temporaries);
* ``codegen.py``: generate the Python source and compile it;
* ``jit_check.py``: the checking mode that runs a program against the eager impls.

Every stage reads the primitives' lowering records (``fnn/lowering.py``), never their
names. The interpreters (jvp, transpose, vmap, partial evaluation) live in
``fnn/transforms``.
"""

"""The interpreters: one per transform, reading the rule tables of ``fnn.rules``.

- ``jvp``: forward mode (``JVPTrace``);
- ``vjp``: reverse mode (linearize by partial evaluation, then transpose);
- ``batching``: vmap (``BatchTrace``);
- ``jaxpr_transforms``: the same transforms applied to whole jaxprs, and
  ``control_flow``: the rules of cond, scan and while_loop written with them;
- ``custom``: ``custom_jvp`` and ``custom_vjp``;
- ``autodiff``: the public ``grad``, ``jacfwd``, ``hessian``, ... on pytrees.

Importing the package registers the control-flow rules, so any transform sees them.
"""

from fnn.transforms import control_flow  # noqa: F401 - registers cond/scan/while rules

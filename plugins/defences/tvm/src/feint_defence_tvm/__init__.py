"""feint plugin: total variation minimisation with pixel dropout (``tvm``), after Guo et al. 2018."""

from feint_defence_tvm.total_var_min import TotalVarMin

__version__ = "0.1.1"
__all__ = ["TotalVarMin"]

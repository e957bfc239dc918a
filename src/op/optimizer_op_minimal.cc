// The minimal build (MX_MINIMAL=ON, CMakeLists.txt) compiles this instead of optimizer_op.cc: a
// predict-only library registers no optimizer-update ops (sgd_update, adam_update, ...), so
// invoking one is MX_ERR_NOT_FOUND like any unknown op. Selecting the file in CMake, rather than
// an #if in all_ops.cc, keeps every shared source identical between the builds (ccache hits).
#include "op/all_ops.h"

namespace mx {

void RegisterOptimizerOps(OpRegistry*) {}

}  // namespace mx

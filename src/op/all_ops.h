// Every op family registers its ops through one function, called once when the registry is first
// used. Explicit calls, not static initialisers, so that linking the static libmx.a keeps every op.
// Adding an op to a family needs no change here; a new family adds its function below and in
// all_ops.cc.
#ifndef MX_OP_ALL_OPS_H_
#define MX_OP_ALL_OPS_H_

#include "op/op.h"

namespace mx {

void RegisterAllOps(OpRegistry* reg);

void RegisterElemwiseUnaryOps(OpRegistry* reg);
void RegisterElemwiseBinaryOps(OpRegistry* reg);
void RegisterBroadcastOps(OpRegistry* reg);
void RegisterReduceOps(OpRegistry* reg);
void RegisterMatrixOps(OpRegistry* reg);
void RegisterInitOps(OpRegistry* reg);
void RegisterNNOps(OpRegistry* reg);
void RegisterCNNOps(OpRegistry* reg);
void RegisterLossOps(OpRegistry* reg);
void RegisterOptimizerOps(OpRegistry* reg);

}  // namespace mx

#endif  // MX_OP_ALL_OPS_H_

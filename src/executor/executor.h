// Executors: a symbol bound to arrays on a device.
//
// Bind does all the planning once — the gradient graph, shape and type inference, the memory
// plan, the storage, and one cached engine operator per node — so that Forward and Backward only
// push those operators: no allocation, no string or map work per call. Both return at once; the
// outputs' reads block.
//
//   auto exec = Executor::SimpleBind(net, Context::CPU(), {{"data", Shape{128, 784}},
//                                                          {"softmax_label", Shape{128}}});
//   exec->arg_arrays()[0].SyncCopyFromCPU(batch, n);
//   exec->Forward(/*is_train=*/true);
//   exec->Backward({});              // loss outputs need no head gradient
//   // exec->grad_arrays()[i] now hold the gradients (lazily)
#ifndef MX_EXECUTOR_EXECUTOR_H_
#define MX_EXECUTOR_EXECUTOR_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "graph/symbol.h"
#include "ndarray/ndarray.h"
#include "op/op.h"

namespace mx {

enum class GradReq : int { kNull = 0, kWrite = 1, kAdd = 2 };

class Executor {
 public:
  // Binds `symbol` on `ctx` to caller-owned arrays: `args` in ListArguments order, `arg_grads`
  // likewise (a none array where there is no gradient), `grad_reqs` per argument, `aux` in
  // ListAuxiliaryStates order. `shared` (may be null) lends its planned storage to this one.
  static std::unique_ptr<Executor> Bind(const Symbol& symbol, Context ctx,
                                        const std::vector<NDArray>& args,
                                        const std::vector<NDArray>& arg_grads,
                                        const std::vector<GradReq>& grad_reqs,
                                        const std::vector<NDArray>& aux,
                                        const Executor* shared = nullptr);
  // Infers every shape and type from the given ones, allocates arguments, gradients (where the
  // request is not null) and auxiliary states, and binds. `grad_reqs` maps argument names to
  // requests; arguments not named get `default_req`.
  static std::unique_ptr<Executor> SimpleBind(const Symbol& symbol, Context ctx,
                                              const std::map<std::string, Shape>& shapes,
                                              const std::map<std::string, int>& dtypes,
                                              GradReq default_req,
                                              const std::map<std::string, GradReq>& grad_reqs,
                                              const Executor* shared = nullptr);
  ~Executor();

  void Forward(bool is_train);
  // `head_grads`: one per output, or empty (then ones: what loss outputs ignore anyway).
  void Backward(const std::vector<NDArray>& head_grads);

  const std::vector<NDArray>& outputs() const { return outputs_; }
  const std::vector<NDArray>& arg_arrays() const { return args_; }
  const std::vector<NDArray>& grad_arrays() const { return grads_; }
  const std::vector<NDArray>& aux_arrays() const { return aux_; }
  const std::vector<std::string>& arg_names() const { return arg_names_; }
  const std::vector<std::string>& aux_names() const { return aux_names_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  const std::vector<GradReq>& grad_reqs() const { return grad_reqs_; }

  // Bytes of the planned internal storage, and what one buffer per value would need.
  size_t planned_bytes() const { return graph_.planned_bytes; }
  size_t naive_bytes() const { return graph_.naive_bytes; }
  std::string DebugPlan() const { return DumpMemoryPlan(graph_); }
  // Internal activations kept in oneDNN's blocked order between ops (op/layout.h); the arrays
  // above are always plain.
  size_t blocked_entries() const { return blocked_entries_; }

  // Called (on an engine thread) with every node output's name and value as it is computed.
  using Monitor = std::function<void(const std::string& name, const NDArray& value)>;
  void SetMonitor(Monitor monitor);

  struct CachedOp;  // one node's prebuilt engine operator (executor.cc)

 private:
  Executor() = default;
  void Init(const Symbol& symbol, Context ctx, const std::vector<NDArray>& args,
            const std::vector<NDArray>& arg_grads, const std::vector<GradReq>& grad_reqs,
            const std::vector<NDArray>& aux, const Executor* shared);
  void AllocateEntries(const Executor* shared);
  void BuildOps();
  void PushMonitor(uint32_t nid);

  Context ctx_;
  Graph graph_;
  size_t num_forward_nodes_ = 0;
  std::vector<NDArray> args_, grads_, aux_, outputs_, head_grads_;
  std::vector<GradReq> grad_reqs_;
  std::vector<std::string> arg_names_, aux_names_, output_names_;
  std::vector<NDArray> entries_;  // one array per entry id (none for unused entries)
  std::vector<NDArray> storage_;  // one block per storage id
  std::vector<OpReq> entry_req_;  // how the producing op writes each entry
  size_t blocked_entries_ = 0;
  std::vector<uint32_t> zero_grads_;  // arguments whose gradient is zero: filled on Backward
  std::vector<int> head_of_output_;   // output k -> index into head_grads_, or -1 (loss output)
  std::vector<std::shared_ptr<CachedOp>> ops_;  // per node (null for variables)
  Monitor monitor_;
};

}  // namespace mx

#endif  // MX_EXECUTOR_EXECUTOR_H_

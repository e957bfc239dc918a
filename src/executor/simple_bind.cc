// SimpleBind: allocate every array a symbol needs from the shapes of a few of them, then Bind.
#include <sstream>

#include "base/error.h"
#include "executor/executor.h"

namespace mx {

std::unique_ptr<Executor> Executor::SimpleBind(const Symbol& symbol, Context ctx,
                                               const std::map<std::string, Shape>& shapes,
                                               const std::map<std::string, int>& dtypes,
                                               GradReq default_req,
                                               const std::map<std::string, GradReq>& grad_reqs,
                                               const Executor* shared) {
  ctx.Validate();
  Graph g = Graph::FromOutputs(symbol.outputs);
  const IndexedGraph& idx = g.indexed();
  std::map<std::string, uint32_t> var_eid;
  for (uint32_t nid : idx.input_nodes()) var_eid[idx[nid].node->attrs.name] = idx.entry_id(nid, 0);
  auto check_name = [&](const std::string& name, const char* what) {
    if (var_eid.count(name)) return;
    std::string valid;
    for (const auto& kv : var_eid) valid += (valid.empty() ? "" : ", ") + kv.first;
    MX_THROW(kInvalidArgument) << "simple_bind: " << what << " '" << name
                               << "' is not an input of the symbol; its inputs are: " << valid;
  };
  for (const auto& kv : shapes) {
    check_name(kv.first, "shape for");
    g.shapes[var_eid[kv.first]] = kv.second;
  }
  for (const auto& kv : dtypes) {
    check_name(kv.first, "dtype for");
    try {
      CheckedDType(kv.second);
    } catch (const Error& e) {
      MX_THROW(kInvalidArgument) << "simple_bind: the dtype of '" << kv.first << "': " << e.what();
    }
    g.dtypes[var_eid[kv.first]] = kv.second;
  }
  for (const auto& kv : grad_reqs) check_name(kv.first, "grad_req for");
  // Every argument and auxiliary state gets an array, so each shape must be known.
  if (InferShape(&g) != 0) {
    const std::string unknown = DescribeUnknownShapes(g);
    MX_CHECK(unknown.empty(), kInvalidArgument)
        << "simple_bind: cannot infer the shape of " << unknown
        << "; give these shapes, or the shapes they follow from";
  }
  // Inputs whose type nothing determines default to float32, as in MXNet.
  InferType(&g);
  for (uint32_t nid : idx.input_nodes()) {
    int& t = g.dtypes[idx.entry_id(nid, 0)];
    if (t < 0) t = static_cast<int>(DType::kFloat32);
  }
  InferType(&g);

  auto array_for = [&](const NodePtr& n) {
    const uint32_t eid = var_eid.at(n->attrs.name);
    NDArray a(g.shapes[eid], ctx, static_cast<DType>(g.dtypes[eid]), false);
    a.Fill(0.0);
    return a;
  };
  std::vector<NDArray> args, grads, aux;
  std::vector<GradReq> reqs;
  for (const NodePtr& n : symbol.ListInputNodes(Symbol::InputKind::kArguments)) {
    args.push_back(array_for(n));
    auto it = grad_reqs.find(n->attrs.name);
    const GradReq req = it == grad_reqs.end() ? default_req : it->second;
    reqs.push_back(req);
    if (req == GradReq::kNull) {
      grads.emplace_back();
    } else {
      grads.push_back(NDArray(args.back().shape(), ctx, args.back().dtype(), false));
      grads.back().Fill(0.0);
    }
  }
  for (const NodePtr& n : symbol.ListInputNodes(Symbol::InputKind::kAuxStates)) {
    aux.push_back(array_for(n));
  }
  return Bind(symbol, ctx, args, grads, reqs, aux, shared);
}

}  // namespace mx

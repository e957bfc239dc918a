#include "executor/executor.h"

#include <algorithm>
#include <sstream>

#include "base/error.h"
#include "engine/engine.h"
#include "op/layout.h"
#include "op/op.h"
#include "op/op_util.h"
#include "resource/resource.h"

namespace mx {

using engine::Engine;

// One node's engine operator and everything its compute needs, built once at bind.
struct Executor::CachedOp {
  // The node is owned here too: pushed instances may still run after the executor (and its graph)
  // is gone, and they read the node's parameters.
  NodePtr node;
  const NodeAttrs* attrs = nullptr;
  const FCompute* fn = nullptr;
  std::vector<TBlob> in, out;
  std::vector<OpReq> req;
  std::vector<Resource> resources;
  std::shared_ptr<void> state;  // the op's FCreateState result, if it has one
  engine::OprHandle train_op = nullptr;
  engine::OprHandle infer_op = nullptr;
};

namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string EntryName(const IndexedGraph& idx, uint32_t nid, uint32_t index) {
  const Node& n = *idx[nid].node;
  if (n.is_variable()) return n.attrs.name;
  return n.attrs.name + "_" + n.attrs.op->OutputNames(n.attrs).at(index);
}

// The engine function of a cached op. It shares ownership of the CachedOp, so the op's data lives
// until the engine has deleted the operator, whenever the executor itself goes away.
engine::AsyncFn MakeFn(std::shared_ptr<Executor::CachedOp> op, bool is_train) {
  return [op = std::move(op), is_train](engine::RunContext rctx, engine::CallbackOnComplete done) {
    OpContext octx;
    octx.run = rctx;
    octx.is_train = is_train;
    octx.requested = &op->resources;
    octx.state = op->state.get();
    try {
      (*op->fn)(*op->attrs, octx, op->in, op->req, op->out);
    } catch (...) {
      done(std::current_exception());
      return;
    }
    done();
  };
}

}  // namespace

std::unique_ptr<Executor> Executor::Bind(const Symbol& symbol, Context ctx,
                                         const std::vector<NDArray>& args,
                                         const std::vector<NDArray>& arg_grads,
                                         const std::vector<GradReq>& grad_reqs,
                                         const std::vector<NDArray>& aux, const Executor* shared) {
  std::unique_ptr<Executor> exec(new Executor());
  exec->Init(symbol, ctx, args, arg_grads, grad_reqs, aux, shared);
  return exec;
}

void Executor::Init(const Symbol& symbol, Context ctx, const std::vector<NDArray>& args,
                    const std::vector<NDArray>& arg_grads, const std::vector<GradReq>& grad_reqs,
                    const std::vector<NDArray>& aux, const Executor* shared) {
  ctx.Validate();
  ctx_ = ctx;
  MX_CHECK(!symbol.outputs.empty(), kInvalidArgument) << "bind: the symbol has no outputs";
  MX_CHECK(!symbol.IsAtomic(), kInvalidArgument)
      << "bind: the symbol is an operator that was never composed with its inputs";
  const std::vector<NodePtr> arg_nodes = symbol.ListInputNodes(Symbol::InputKind::kArguments);
  const std::vector<NodePtr> aux_nodes = symbol.ListInputNodes(Symbol::InputKind::kAuxStates);
  arg_names_ = symbol.ListArguments();
  aux_names_ = symbol.ListAuxiliaryStates();
  output_names_ = symbol.ListOutputs();
  MX_CHECK(args.size() == arg_nodes.size(), kInvalidArgument)
      << "bind: the symbol has " << arg_nodes.size() << " arguments (" << JoinNames(arg_names_)
      << "), got " << args.size() << " arrays";
  MX_CHECK(aux.size() == aux_nodes.size(), kInvalidArgument)
      << "bind: the symbol has " << aux_nodes.size() << " auxiliary states ("
      << JoinNames(aux_names_) << "), got " << aux.size() << " arrays";
  MX_CHECK(arg_grads.empty() || arg_grads.size() == args.size(), kInvalidArgument)
      << "bind: " << arg_grads.size() << " gradient arrays for " << args.size() << " arguments";
  MX_CHECK(grad_reqs.empty() || grad_reqs.size() == args.size(), kInvalidArgument)
      << "bind: " << grad_reqs.size() << " gradient requests for " << args.size() << " arguments";
  args_ = args;
  aux_ = aux;
  grads_.assign(args.size(), NDArray());
  grad_reqs_.assign(args.size(), GradReq::kNull);
  for (size_t i = 0; i < args.size(); ++i) {
    MX_CHECK(!args[i].is_none(), kInvalidArgument)
        << "bind: argument '" << arg_names_[i] << "' has no array";
    MX_CHECK(args[i].ctx() == ctx, kInvalidArgument)
        << "bind: argument '" << arg_names_[i] << "' is on " << args[i].ctx() << ", binding on "
        << ctx;
    const bool has_grad = !arg_grads.empty() && !arg_grads[i].is_none();
    GradReq req = grad_reqs.empty() ? (has_grad ? GradReq::kWrite : GradReq::kNull) : grad_reqs[i];
    if (req != GradReq::kNull) {
      MX_CHECK(has_grad, kInvalidArgument)
          << "bind: argument '" << arg_names_[i] << "' requests a gradient but has no array";
      MX_CHECK(arg_grads[i].shape() == args[i].shape() && arg_grads[i].dtype() == args[i].dtype(),
               kInvalidArgument)
          << "bind: the gradient of '" << arg_names_[i] << "' has shape " << arg_grads[i].shape()
          << ", the argument has " << args[i].shape();
      grads_[i] = arg_grads[i];
    }
    grad_reqs_[i] = req;
  }
  for (size_t i = 0; i < aux.size(); ++i) {
    MX_CHECK(!aux[i].is_none() && aux[i].ctx() == ctx, kInvalidArgument)
        << "bind: auxiliary state '" << aux_names_[i] << "' must be an array on " << ctx;
  }

  // The graph: forward outputs, then the gradients of the arguments that want one.
  std::vector<NodeEntry> ys = symbol.outputs;
  std::vector<NodeEntry> all = ys;
  std::vector<NodeEntry> head_entries;
  std::vector<int> grad_output(args.size(), -1);  // index into `all`
  std::vector<NodeEntry> xs;
  std::vector<size_t> x_arg;
  for (size_t i = 0; i < args.size(); ++i) {
    if (grad_reqs_[i] == GradReq::kNull) continue;
    xs.push_back({arg_nodes[i], 0});
    x_arg.push_back(i);
  }
  const size_t num_forward_nodes = IndexedGraph(ys).num_nodes();
  if (!xs.empty()) {
    for (size_t k = 0; k < ys.size(); ++k) {
      head_entries.push_back({MakeVariable(output_names_[k] + "_head_grad"), 0});
    }
    std::vector<NodeEntry> grads = Gradient(ys, head_entries, xs);
    const IndexedGraph fwd(ys);
    // Each gradient array is written by a node of its own. A gradient that is a variable, a
    // forward value, or the same entry as another argument's gradient (x + y gives both the head
    // gradient) is copied for every argument that uses it: writing it directly into one
    // argument's array (possibly accumulating with grad_req add) would change what the others
    // read.
    std::map<std::pair<const Node*, uint32_t>, int> uses;
    for (const NodeEntry& g : grads) {
      if (g.node) ++uses[{g.node.get(), g.index}];
    }
    for (size_t j = 0; j < xs.size(); ++j) {
      NodeEntry g = grads[j];
      if (!g.node) {
        zero_grads_.push_back(static_cast<uint32_t>(x_arg[j]));
        continue;
      }
      if (g.node->is_variable() || fwd.has_node(g.node.get()) ||
          uses[{g.node.get(), g.index}] > 1) {
        g = MakeEntry("_copy", arg_names_[x_arg[j]] + "_grad_copy", {g});
      }
      grad_output[x_arg[j]] = static_cast<int>(all.size());
      all.push_back(g);
    }
  }
  graph_ = Graph::FromOutputs(all);
  num_forward_nodes_ = num_forward_nodes;
  const IndexedGraph& idx = graph_.indexed();

  // Shapes and types: from the arrays, then inferred; head gradients take their output's.
  std::vector<uint32_t> arg_eids, aux_eids, head_eids;
  for (size_t i = 0; i < args.size(); ++i) {
    arg_eids.push_back(idx.entry_id(idx.node_id(arg_nodes[i].get()), 0));
    graph_.shapes[arg_eids.back()] = args[i].shape();
    graph_.dtypes[arg_eids.back()] = static_cast<int>(args[i].dtype());
  }
  for (size_t i = 0; i < aux.size(); ++i) {
    aux_eids.push_back(idx.entry_id(idx.node_id(aux_nodes[i].get()), 0));
    graph_.shapes[aux_eids.back()] = aux[i].shape();
    graph_.dtypes[aux_eids.back()] = static_cast<int>(aux[i].dtype());
  }
  InferShape(&graph_);
  InferType(&graph_);
  std::vector<uint32_t> out_eids;
  for (const auto& e : idx.outputs()) out_eids.push_back(idx.entry_id(e));
  head_of_output_.assign(ys.size(), -1);
  if (!head_entries.empty()) {
    for (size_t k = 0; k < head_entries.size(); ++k) {
      if (!idx.has_node(head_entries[k].node.get())) continue;  // a loss output ignores it
      head_of_output_[k] = static_cast<int>(head_eids.size());
      head_eids.push_back(idx.entry_id(idx.node_id(head_entries[k].node.get()), 0));
      graph_.shapes[head_eids.back()] = graph_.shapes[out_eids[k]];
      graph_.dtypes[head_eids.back()] = graph_.dtypes[out_eids[k]];
    }
    InferShape(&graph_);
    InferType(&graph_);
  }
  const std::string unknown_shapes = DescribeUnknownShapes(graph_);
  MX_CHECK(unknown_shapes.empty(), kInvalidArgument)
      << "bind: cannot infer the shape of " << unknown_shapes;
  const std::string unknown_types = DescribeUnknownTypes(graph_);
  MX_CHECK(unknown_types.empty(), kInvalidArgument)
      << "bind: cannot infer the type of " << unknown_types;

  // The memory plan: everything the caller sees is external; outputs nobody reads are null.
  std::vector<int> readers(idx.num_entries(), 0);
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    for (const auto& e : idx[nid].inputs) ++readers[idx.entry_id(e)];
  }
  PlanOptions plan;
  std::vector<bool> external(idx.num_entries(), false);
  for (uint32_t nid : idx.input_nodes()) external[idx.entry_id(nid, 0)] = true;
  for (uint32_t eid : out_eids) external[eid] = true;
  for (uint32_t eid = 0; eid < idx.num_entries(); ++eid) {
    if (external[eid]) {
      plan.external_entries.push_back(eid);
    } else if (readers[eid] == 0) {
      plan.null_entries.push_back(eid);
    }
  }
  PlanMemory(&graph_, plan);
  // cuDNN reads plain NCHW: only CPU executors keep activations blocked.
  blocked_entries_ = ctx.is_gpu() ? 0 : PlanLayout(&graph_, plan.external_entries);
  if (ctx.is_gpu()) graph_.layouts.assign(idx.num_entries(), Layout::kPlain);

  // Arrays for every entry.
  entries_.assign(idx.num_entries(), NDArray());
  entry_req_.assign(idx.num_entries(), OpReq::kWrite);
  for (size_t i = 0; i < args.size(); ++i) entries_[arg_eids[i]] = args_[i];
  for (size_t i = 0; i < aux.size(); ++i) entries_[aux_eids[i]] = aux_[i];
  for (uint32_t eid : head_eids) {
    head_grads_.push_back(
        NDArray(graph_.shapes[eid], ctx, static_cast<DType>(graph_.dtypes[eid]), false));
    entries_[eid] = head_grads_.back();
  }
  for (size_t k = 0; k < ys.size(); ++k) {
    const uint32_t eid = out_eids[k];
    if (entries_[eid].is_none()) {
      entries_[eid] =
          NDArray(graph_.shapes[eid], ctx, static_cast<DType>(graph_.dtypes[eid]), false);
    }
    outputs_.push_back(entries_[eid]);
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (grad_output[i] < 0) continue;
    const uint32_t eid = out_eids[grad_output[i]];
    entries_[eid] = grads_[i];
    entry_req_[eid] = grad_reqs_[i] == GradReq::kAdd ? OpReq::kAdd : OpReq::kWrite;
  }
  AllocateEntries(shared);
  BuildOps();
}

void Executor::AllocateEntries(const Executor* shared) {
  const IndexedGraph& idx = graph_.indexed();
  storage_.assign(graph_.storage_bytes.size(), NDArray());
  for (size_t sid = 0; sid < storage_.size(); ++sid) {
    const size_t bytes = std::max<size_t>(graph_.storage_bytes[sid], 1);
    // A shared executor (e.g. the evaluation twin of a training executor) lends its blocks: they
    // are never used by both at once when the two run one after the other.
    if (shared != nullptr && sid < shared->storage_.size() &&
        shared->storage_[sid].Bytes() >= bytes && shared->ctx_ == ctx_) {
      storage_[sid] = shared->storage_[sid];
    } else {
      storage_[sid] = NDArray(Shape{static_cast<int64_t>(bytes)}, ctx_, DType::kUint8, false);
    }
  }
  for (uint32_t eid = 0; eid < idx.num_entries(); ++eid) {
    const int sid = graph_.storage_id[eid];
    if (sid == kNullStorage) entry_req_[eid] = OpReq::kNull;
    if (sid < 0 || !entries_[eid].is_none()) continue;
    entries_[eid] =
        storage_[sid].ReinterpretAs(graph_.shapes[eid], static_cast<DType>(graph_.dtypes[eid]));
    if (graph_.inplace_of[eid] >= 0) entry_req_[eid] = OpReq::kInplace;
  }
}

void Executor::BuildOps() {
  const IndexedGraph& idx = graph_.indexed();
  Engine* eng = Engine::Get();
  ops_.resize(idx.num_nodes());
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const Node& node = *idx[nid].node;
    if (node.is_variable()) continue;
    auto op = std::make_shared<CachedOp>();
    op->node = idx[nid].node;
    op->attrs = &op->node->attrs;
    op->fn = node.attrs.op->Compute(ctx_.dev_type);
    MX_CHECK(op->fn != nullptr, kUnsupported)
        << "bind: operator '" << node.attrs.op->name << "' (node '" << node.attrs.name
        << "') has no implementation for " << ctx_;
    std::vector<engine::VarHandle> reads, writes;
    // Inputs the op writes when training; for inference too unless the op says otherwise
    // (BatchNorm's moving statistics), in which case the inference op only reads them.
    std::vector<engine::VarHandle> mutated_vars;
    std::vector<int> mutated;
    if (node.attrs.op->mutate_inputs) mutated = node.attrs.op->mutate_inputs(node.attrs);
    for (size_t i = 0; i < idx[nid].inputs.size(); ++i) {
      const uint32_t eid = idx.entry_id(idx[nid].inputs[i]);
      const NDArray& a = entries_[eid];
      op->in.push_back(a.data());
      op->in.back().layout = graph_.layouts[eid];
      const bool writes_it = std::find(mutated.begin(), mutated.end(), int(i)) != mutated.end();
      (writes_it ? mutated_vars : reads).push_back(a.var());
    }
    bool any_output = false;
    for (int i = 0; i < node.num_outputs(); ++i) {
      const uint32_t eid = idx.entry_id(nid, i);
      op->req.push_back(entry_req_[eid]);
      if (entry_req_[eid] == OpReq::kNull) {
        op->out.push_back(
            TBlob{nullptr, graph_.shapes[eid], static_cast<DType>(graph_.dtypes[eid]), ctx_});
        continue;
      }
      any_output = true;
      op->out.push_back(entries_[eid].data());
      op->out.back().layout = graph_.layouts[eid];
      writes.push_back(entries_[eid].var());
    }
    if (!any_output && mutated.empty()) continue;  // nothing it computes is needed
    auto create = node.attrs.op->create_state.find(ctx_.dev_type);
    if (create != node.attrs.op->create_state.end()) {
      try {
        op->state = create->second(node.attrs, ctx_, op->in, op->req, op->out);
      } catch (const Error& e) {
        throw Error(e.code(), "bind: node '" + node.attrs.name + "' (" + node.attrs.op->name +
                                  "): " + e.what());
      }
    }
    if (node.attrs.op->resources) {
      for (ResourceType t : node.attrs.op->resources(node.attrs)) {
        op->resources.push_back(ResourceManager::Get()->Request(ctx_, t));
        writes.push_back(op->resources.back().var);
      }
    }
    const char* name = node.attrs.name.c_str();
    std::vector<engine::VarHandle> train_writes = writes, infer_reads = reads;
    train_writes.insert(train_writes.end(), mutated_vars.begin(), mutated_vars.end());
    std::vector<engine::VarHandle>& infer_mutated =
        node.attrs.op->mutates_in_inference ? writes : infer_reads;
    infer_mutated.insert(infer_mutated.end(), mutated_vars.begin(), mutated_vars.end());
    op->train_op =
        eng->NewOperator(MakeFn(op, true), reads.data(), int(reads.size()), train_writes.data(),
                         int(train_writes.size()), engine::FnProperty::kNormal, name);
    op->infer_op =
        eng->NewOperator(MakeFn(op, false), infer_reads.data(), int(infer_reads.size()),
                         writes.data(), int(writes.size()), engine::FnProperty::kNormal, name);
    ops_[nid] = std::move(op);
  }
}

Executor::~Executor() {
  Engine* eng = Engine::Peek();
  if (eng == nullptr) return;
  for (auto& op : ops_) {
    if (!op) continue;
    try {
      // The engine deletes each operator after its pushed instances have run.
      eng->DeleteOperator(op->train_op);
      eng->DeleteOperator(op->infer_op);
    } catch (...) {
      // A destructor must not throw.
    }
  }
}

void Executor::Forward(bool is_train) {
  Engine* eng = Engine::Get();
  for (uint32_t nid = 0; nid < num_forward_nodes_; ++nid) {
    const auto& op = ops_[nid];
    if (!op) continue;
    eng->PushOperator(is_train ? op->train_op : op->infer_op, ctx_, 0);
    if (monitor_) PushMonitor(nid);
  }
}

void Executor::Backward(const std::vector<NDArray>& head_grads) {
  MX_CHECK(head_grads.empty() || head_grads.size() == outputs_.size(), kInvalidArgument)
      << "backward: " << head_grads.size() << " head gradients for " << outputs_.size()
      << " outputs (" << JoinNames(output_names_) << ")";
  bool any = false;
  for (GradReq r : grad_reqs_) any = any || r != GradReq::kNull;
  MX_CHECK(any, kInvalidArgument)
      << "backward: the executor was bound without gradients (every grad_req is null)";
  for (size_t k = 0; k < outputs_.size(); ++k) {
    const int h = head_of_output_[k];
    if (h < 0) continue;  // a loss output: its gradient ignores the head gradient
    if (head_grads.empty()) {
      head_grads_[h].Fill(1.0);
    } else {
      MX_CHECK(head_grads[k].shape() == head_grads_[h].shape(), kInvalidArgument)
          << "backward: head gradient " << k << " has shape " << head_grads[k].shape()
          << ", output '" << output_names_[k] << "' has " << head_grads_[h].shape();
      NDArray::CopyFromTo(head_grads[k], head_grads_[h]);
    }
  }
  for (uint32_t i : zero_grads_) {
    if (grad_reqs_[i] == GradReq::kWrite) grads_[i].Fill(0.0);
  }
  Engine* eng = Engine::Get();
  for (uint32_t nid = static_cast<uint32_t>(num_forward_nodes_); nid < ops_.size(); ++nid) {
    const auto& op = ops_[nid];
    if (!op) continue;
    eng->PushOperator(op->train_op, ctx_, 0);
    if (monitor_) PushMonitor(nid);
  }
}

void Executor::SetMonitor(Monitor monitor) { monitor_ = std::move(monitor); }

void Executor::PushMonitor(uint32_t nid) {
  const IndexedGraph& idx = graph_.indexed();
  const Node& node = *idx[nid].node;
  for (int i = 0; i < node.num_outputs(); ++i) {
    const uint32_t eid = idx.entry_id(nid, i);
    if (entry_req_[eid] == OpReq::kNull || entries_[eid].is_none()) continue;
    NDArray value = entries_[eid];
    std::string name = EntryName(idx, nid, i);
    Monitor monitor = monitor_;
    engine::VarHandle v = value.var();
    const bool blocked = graph_.layouts[eid] != Layout::kPlain;
    // A blocked activation is shown as the plain array it stands for, in a copy of its own.
    Engine::Get()->PushSync(
        [monitor, name, value, blocked](engine::RunContext) {
          if (!blocked) return monitor(name, value);
          NDArray plain(value.shape(), value.ctx(), value.dtype(), false);
          TBlob from = value.data();
          from.layout = Layout::kBlocked16;
          BlockedToPlain(from, plain.data().data<float>());
          monitor(name, plain);
        },
        ctx_, &v, 1, nullptr, 0, engine::FnProperty::kNormal, 0, "monitor");
  }
}

}  // namespace mx

#include "op/invoke.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <utility>

#include "base/scratch.h"
#include "engine/object_pool.h"

namespace mx {
namespace {

std::string ShapesToString(const std::vector<std::string>& names, const std::vector<Shape>& s) {
  std::ostringstream os;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) os << ", ";
    if (i < names.size()) os << names[i] << "=";
    os << s[i];
  }
  return os.str();
}

}  // namespace

void InferOpShapes(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Op* op = attrs.op;
  bool complete = false;
  try {
    complete = op->infer_shape(attrs, in, out);
  } catch (const Error& e) {
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "': " << e.what()
                               << " (inputs: " << ShapesToString(op->InputNames(attrs), *in) << ")";
  }
  bool known = complete;
  for (const Shape& s : *out) known = known && s.IsKnown();
  MX_CHECK(known, kInvalidArgument)
      << "operator '" << op->name << "': cannot infer the output shapes from inputs "
      << ShapesToString(op->InputNames(attrs), *in);
}

void InferOpTypes(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const Op* op = attrs.op;
  bool complete = false;
  try {
    complete = op->infer_type(attrs, in, out);
  } catch (const Error& e) {
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "': " << e.what();
  }
  for (int t : *out) complete = complete && t >= 0;
  MX_CHECK(complete, kInvalidArgument)
      << "operator '" << op->name << "': cannot infer the output types";
}

std::shared_ptr<const PreparedAttrs> PreparedAttrs::Make(NodeAttrs attrs) {
  auto p = std::make_shared<PreparedAttrs>();
  p->attrs = std::move(attrs);
  const Op* op = p->attrs.op;
  p->num_inputs = op->NumInputs(p->attrs);
  p->num_outputs = op->NumOutputs(p->attrs);
  p->num_visible_outputs = op->NumVisibleOutputs(p->attrs);
  return p;
}

namespace {

// What a pushed op needs when it runs. Pooled (engine::ObjectPool): the vectors keep their
// capacity from call to call, so steady-state calls do not allocate.
struct PendingCall {
  // Room for the common arities up front: a pooled call then never grows whichever op it serves
  // next (a call that grew for a 2-input op and then serves one with 3 would allocate).
  PendingCall() {
    in.reserve(4);
    out.reserve(4);
    req.reserve(4);
    resources.reserve(2);
  }
  std::shared_ptr<const PreparedAttrs> attrs;
  const FCompute* fn = nullptr;
  std::vector<TBlob> in, out;
  std::vector<OpReq> req;
  std::vector<Resource> resources;
  bool is_train = false;
  PendingCall* pool_next = nullptr;
};

engine::ObjectPool<PendingCall>* Calls() { return engine::ObjectPool<PendingCall>::Global(); }

// The pushed function's hold on its call: returns it to the pool when the engine drops the
// function, whether it ran or was skipped because an input carried an error.
class CallRef {
 public:
  explicit CallRef(PendingCall* c) : c_(c) {}
  CallRef(CallRef&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  CallRef(const CallRef&) = delete;
  CallRef& operator=(const CallRef&) = delete;
  CallRef& operator=(CallRef&&) = delete;
  ~CallRef() {
    if (c_ == nullptr) return;
    c_->attrs.reset();
    c_->resources.clear();
    Calls()->Free(c_);
  }
  PendingCall* get() const { return c_; }

 private:
  PendingCall* c_;
};

// The lists one call fills (ScratchLease: reused by the thread's next call).
struct Scratch {
  std::vector<Shape> in_shapes, out_shapes;
  std::vector<int> in_types, out_types;
  std::vector<engine::VarHandle> reads, writes;
  void Clear() {
    in_shapes.clear();
    out_shapes.clear();
    in_types.clear();
    out_types.clear();
    reads.clear();
    writes.clear();
  }
};

[[noreturn]] void ThrowInconsistentInputs(const Op* op, const NodeAttrs& attrs,
                                          const NDArray* inputs, int n_in,
                                          const std::vector<Shape>& expected) {
  std::vector<Shape> given;
  for (int i = 0; i < n_in; ++i) given.push_back(inputs[i].shape());
  MX_THROW(kInvalidArgument) << "operator '" << op->name << "': input shapes "
                             << ShapesToString(op->InputNames(attrs), given)
                             << " are inconsistent (expected "
                             << ShapesToString(op->InputNames(attrs), expected) << ")";
}

// Note [Small ops inline]: pushing an op to a worker costs a wake-up and a hand-off (several
// microseconds on two busy vCPUs), far more than adding 16 floats. An op whose work is at most
// engine::CheapWorkLimit() is pushed as FnProperty::kCheap: when its arrays have no pending work it
// runs on the calling thread inside the push, with the same dependency bookkeeping, so ordering and
// error reporting are those of any other op. Larger ops go to the workers, so the caller keeps
// pushing while they run.
bool IsSmall(const Op* op, const NodeAttrs& attrs, const std::vector<Shape>& in,
             const std::vector<Shape>& out) {
  const int64_t limit = engine::CheapWorkLimit();
  if (limit == 0) return false;
  if (op->work) return op->work(attrs, in, out) <= limit;
  int64_t elements = 0;
  for (const Shape& s : in) elements += s.Size();
  for (const Shape& s : out) elements += s.Size();
  return elements <= limit;
}

}  // namespace

void Invoke(NodeAttrs attrs, const std::vector<NDArray>& inputs, std::vector<NDArray>* outputs,
            bool is_train, Context ctx) {
  Invoke(PreparedAttrs::Make(std::move(attrs)), inputs.data(), static_cast<int>(inputs.size()),
         outputs, is_train, ctx);
}

void Invoke(const std::shared_ptr<const PreparedAttrs>& prepared, const NDArray* inputs,
            int num_inputs, std::vector<NDArray>* outputs, bool is_train, Context ctx) {
  const NodeAttrs& attrs = prepared->attrs;
  const Op* op = attrs.op;
  const int n_in = prepared->num_inputs;
  const int n_out = prepared->num_outputs;
  if (num_inputs != n_in) {
    std::ostringstream names;
    for (const auto& n : op->InputNames(attrs)) names << (names.tellp() ? ", " : "") << n;
    MX_THROW(kInvalidArgument) << "operator '" << op->name << "' takes " << n_in << " inputs ("
                               << names.str() << "), got " << num_inputs;
  }
  // Callers may pass just the visible outputs: the hidden ones (Op::SetNumVisibleOutputs) are
  // then allocated here and dropped after the push (the engine keeps their memory until the op
  // has run).
  const int n_visible = prepared->num_visible_outputs;
  const bool drop_hidden = n_visible < n_out && static_cast<int>(outputs->size()) == n_visible;
  if (outputs->empty() || drop_hidden) outputs->resize(n_out);
  MX_CHECK(static_cast<int>(outputs->size()) == n_out, kInvalidArgument)
      << "operator '" << op->name << "' has " << n_visible << " outputs"
      << (n_visible < n_out ? " (and " + std::to_string(n_out - n_visible) + " hidden)" : "")
      << ", got " << outputs->size();

  // The device: the inputs', else a given output's, else `ctx`.
  for (int i = 0; i < n_in; ++i) {
    MX_CHECK(!inputs[i].is_none(), kInvalidArgument)
        << "operator '" << op->name << "': an input is empty";
  }
  if (n_in > 0) {
    ctx = inputs[0].ctx();
  } else {
    for (const NDArray& o : *outputs) {
      if (!o.is_none()) {
        ctx = o.ctx();
        break;
      }
    }
  }
  for (int i = 0; i < n_in; ++i) {
    MX_CHECK(inputs[i].ctx() == ctx, kInvalidArgument)
        << "operator '" << op->name << "': input " << i << " is on " << inputs[i].ctx()
        << " but input 0 is on " << ctx << "; copy it first";
  }

  ScratchLease<Scratch> s;
  s->out_shapes.assign(n_out, Shape::Unknown());
  s->out_types.assign(n_out, -1);
  for (int i = 0; i < n_in; ++i) {
    s->in_shapes.push_back(inputs[i].shape());
    s->in_types.push_back(static_cast<int>(inputs[i].dtype()));
  }
  for (int i = 0; i < n_out; ++i) {
    if (!(*outputs)[i].is_none()) {
      s->out_shapes[i] = (*outputs)[i].shape();
      s->out_types[i] = static_cast<int>((*outputs)[i].dtype());
    }
  }
  InferOpShapes(attrs, &s->in_shapes, &s->out_shapes);
  for (int i = 0; i < n_in; ++i) {
    if (!(s->in_shapes[i] == inputs[i].shape()))
      ThrowInconsistentInputs(op, attrs, inputs, n_in, s->in_shapes);
  }
  InferOpTypes(attrs, &s->in_types, &s->out_types);

  const FCompute* fn = op->Compute(ctx.dev_type);
  MX_CHECK(fn != nullptr, kUnsupported)
      << "operator '" << op->name << "' has no implementation for " << ctx;

  // Outputs: allocate missing ones; an output aliasing an input that may not be overwritten in
  // place gets a temporary, copied back after the op.
  PendingCall* call = Calls()->Alloc();
  CallRef ref(call);  // returns the call to the pool if anything below throws
  call->attrs = prepared;
  call->fn = fn;
  call->is_train = is_train;
  call->in.clear();
  call->out.clear();
  call->req.assign(n_out, OpReq::kWrite);
  call->resources.clear();
  std::vector<std::pair<NDArray, NDArray>> copy_back;  // rare: allocates only when used
  for (int i = 0; i < n_out; ++i) {
    NDArray& o = (*outputs)[i];
    const DType out_type = static_cast<DType>(s->out_types[i]);
    if (o.is_none()) {
      o = NDArray(s->out_shapes[i], ctx, out_type);
    } else {
      MX_CHECK(o.shape() == s->out_shapes[i] && o.dtype() == out_type, kInvalidArgument)
          << "operator '" << op->name << "': output " << i << " has shape " << o.shape() << " and "
          << DTypeName(o.dtype()) << ", expected " << s->out_shapes[i] << " and "
          << DTypeName(out_type);
      MX_CHECK(o.ctx() == ctx, kInvalidArgument)
          << "operator '" << op->name << "': output " << i << " is on " << o.ctx()
          << " but the inputs are on " << ctx;
    }
    const NDArray* target = &o;
    for (int j = 0; j < n_in; ++j) {
      if (!inputs[j].SharesChunkWith(o)) continue;
      bool allowed = false;
      if (inputs[j].SameData(o) && op->inplace) {
        const auto pairs = op->inplace(attrs);
        allowed = std::find(pairs.begin(), pairs.end(), std::make_pair(j, i)) != pairs.end();
      }
      if (allowed) {
        call->req[i] = OpReq::kInplace;
      } else {
        copy_back.emplace_back(NDArray(s->out_shapes[i], ctx, out_type), o);
        target = &copy_back.back().first;
        call->req[i] = OpReq::kWrite;
        break;
      }
    }
    s->writes.push_back(target->var());
    call->out.push_back(target->data());
  }

  // Engine variables: inputs are read, outputs and mutated inputs written, resources written.
  for (int i = 0; i < n_in; ++i) {
    s->reads.push_back(inputs[i].var());
    call->in.push_back(inputs[i].data());
  }
  if (op->mutate_inputs) {
    for (int idx : op->mutate_inputs(attrs)) s->writes.push_back(inputs[idx].var());
  }
  if (op->resources) {
    for (ResourceType type : op->resources(attrs)) {
      call->resources.push_back(ResourceManager::Get()->Request(ctx, type));
      s->writes.push_back(call->resources.back().var);
    }
  }

  const engine::FnProperty prop = ctx.is_gpu() || !IsSmall(op, attrs, s->in_shapes, s->out_shapes)
                                      ? engine::FnProperty::kNormal
                                      : engine::FnProperty::kCheap;
  engine::Engine::Get()->PushSync(
      [ref = std::move(ref)](const engine::RunContext& rctx) {
        const PendingCall* c = ref.get();
        OpContext octx;
        octx.run = rctx;
        octx.is_train = c->is_train;
        octx.requested = &c->resources;
        (*c->fn)(c->attrs->attrs, octx, c->in, c->req, c->out);
      },
      ctx, s->reads.data(), static_cast<int>(s->reads.size()), s->writes.data(),
      static_cast<int>(s->writes.size()), prop, 0, op->name.c_str());

  for (auto& cb : copy_back) NDArray::CopyFromTo(cb.first, cb.second);
  if (drop_hidden) outputs->resize(n_visible);
}

}  // namespace mx

#include "predict/predictor.h"

#include <algorithm>

#include "base/error.h"

namespace mx {
namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string Join(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

// Labels of loss outputs: inference never reads them, so a predictor gives them zeros of the
// inferred shape instead of asking for them.
std::vector<std::string> LabelArguments(const Symbol& symbol) {
  std::vector<std::string> labels;
  const IndexedGraph idx(symbol.outputs);
  for (uint32_t nid = 0; nid < idx.num_nodes(); ++nid) {
    const Node& n = *idx[nid].node;
    const std::string& op = n.is_variable() ? std::string() : n.attrs.op->name;
    const bool loss =
        op == "SoftmaxOutput" || (op.size() > 16 && op.find("RegressionOutput") == op.size() - 16);
    if (!loss || idx[nid].inputs.size() < 2) continue;
    const Node& label = *idx[idx[nid].inputs[1].node_id].node;
    if (label.is_variable()) labels.push_back(label.attrs.name);
  }
  return labels;
}

}  // namespace

std::shared_ptr<const Model> Model::Load(const std::string& symbol_json, const std::string& params,
                                         Context ctx, const std::string& source) {
  ctx.Validate();
  std::shared_ptr<Model> m(new Model());
  m->symbol_ = Symbol::FromJSON(symbol_json);
  MX_CHECK(!m->symbol_.outputs.empty(), kInvalidArgument) << "the model's symbol has no outputs";
  m->ctx_ = ctx;
  std::vector<NDArray> arrays;
  std::vector<std::string> names;
  NDArray::LoadFromBuffer(params, source, &arrays, &names);
  MX_CHECK(names.size() == arrays.size(), kInvalidArgument)
      << "parameters '" << source << "' hold " << arrays.size()
      << " unnamed arrays; a model needs them by name (arg:<name>, aux:<name>)";
  const std::vector<std::string> arg_names = m->symbol_.ListArguments();
  const std::vector<std::string> aux_names = m->symbol_.ListAuxiliaryStates();
  auto is_in = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (size_t i = 0; i < arrays.size(); ++i) {
    std::string name = names[i];
    std::map<std::string, NDArray>* into = nullptr;
    if (StartsWith(name, "arg:")) {
      name = name.substr(4);
      into = &m->args_;
    } else if (StartsWith(name, "aux:")) {
      name = name.substr(4);
      into = &m->aux_;
    } else {
      into = is_in(aux_names, name) ? &m->aux_ : &m->args_;
    }
    const bool known = into == &m->aux_ ? is_in(aux_names, name) : is_in(arg_names, name);
    MX_CHECK(known, kInvalidArgument)
        << "parameters '" << source << "': '" << names[i] << "' is not "
        << (into == &m->aux_ ? "an auxiliary state" : "an argument") << " of the symbol ("
        << Join(into == &m->aux_ ? aux_names : arg_names) << ")";
    MX_CHECK(into->count(name) == 0, kInvalidArgument)
        << "parameters '" << source << "': '" << name << "' appears twice";
    // Weights live on the model's device once, whatever the file's arrays were.
    (*into)[name] = arrays[i].ctx() == ctx ? arrays[i] : arrays[i].CopyTo(ctx);
  }
  for (const std::string& name : aux_names) {
    MX_CHECK(m->aux_.count(name), kInvalidArgument)
        << "parameters '" << source << "' lack the auxiliary state '" << name << "'";
  }
  // Loading is the one write to the weights; after this every use only reads them.
  for (auto* params_map : {&m->args_, &m->aux_}) {
    for (auto& kv : *params_map) kv.second.WaitToRead();
  }
  return m;
}

Predictor::Predictor(std::shared_ptr<const Model> model, const std::map<std::string, Shape>& inputs)
    : model_(std::move(model)) {
  MX_CHECK(model_ != nullptr, kInvalidArgument) << "predictor: no model";
  Reshape(inputs);
}

void Predictor::Reshape(const std::map<std::string, Shape>& inputs) {
  const Symbol& symbol = model_->symbol();
  const std::vector<std::string> arg_names = symbol.ListArguments();
  const std::vector<std::string> labels = LabelArguments(symbol);
  std::vector<std::string> valid;  // what may be an input: arguments the weights do not hold
  for (const std::string& n : arg_names) {
    if (!model_->args().count(n)) valid.push_back(n);
  }
  for (const auto& kv : inputs) {
    MX_CHECK(std::find(valid.begin(), valid.end(), kv.first) != valid.end(), kInvalidArgument)
        << "predictor: '" << kv.first << "' is not an input of the model"
        << (model_->args().count(kv.first) ? " (it is one of its weights)" : "")
        << "; its inputs are: " << Join(valid);
    // Every dim at least 1: a predictor allocates its inputs, and 0 means "unknown" to users of
    // MXNet's shape convention, so an empty batch is refused rather than guessed at.
    const Shape& s = kv.second;
    bool complete = s.ndim() > 0;
    for (int d = 0; d < s.ndim(); ++d) complete = complete && s[d] > 0;
    MX_CHECK(complete, kInvalidArgument)
        << "predictor: input '" << kv.first << "' needs a complete shape, got " << s;
    try {
      (void)s.Size();
    } catch (const Error& e) {
      MX_THROW(kInvalidArgument) << "predictor: input '" << kv.first << "': " << e.what();
    }
  }

  // Shapes of everything from the inputs and the weights; labels follow from the outputs.
  Graph g = Graph::FromOutputs(symbol.outputs);
  const IndexedGraph& idx = g.indexed();
  std::map<std::string, uint32_t> eid;
  for (uint32_t nid : idx.input_nodes()) eid[idx[nid].node->attrs.name] = idx.entry_id(nid, 0);
  for (const auto& kv : inputs) g.shapes[eid.at(kv.first)] = kv.second;
  for (const auto* m : {&model_->args(), &model_->aux()}) {
    for (const auto& kv : *m) g.shapes[eid.at(kv.first)] = kv.second.shape();
  }
  InferShape(&g);

  std::map<std::string, NDArray> new_inputs;
  std::vector<NDArray> args, aux;
  for (const std::string& name : arg_names) {
    auto w = model_->args().find(name);
    if (w != model_->args().end()) {
      args.push_back(w->second);
      continue;
    }
    const bool is_label = std::find(labels.begin(), labels.end(), name) != labels.end();
    MX_CHECK(inputs.count(name) || is_label, kInvalidArgument)
        << "predictor: argument '" << name
        << "' is neither in the parameters nor a given input; give its shape as an input";
    const Shape& s = g.shapes[eid.at(name)];
    MX_CHECK(s.IsKnown(), kInvalidArgument)
        << "predictor: cannot infer the shape of label '" << name << "' from the inputs";
    NDArray a(s, model_->ctx(), DType::kFloat32, false);
    a.Fill(0.0);
    args.push_back(a);
    if (!is_label) new_inputs[name] = a;
  }
  for (const std::string& name : symbol.ListAuxiliaryStates())
    aux.push_back(model_->aux().at(name));
  // No gradients: nothing is ever written into the shared weights.
  exec_ = Executor::Bind(symbol, model_->ctx(), args, {}, {}, aux);
  inputs_ = std::move(new_inputs);
}

void Predictor::SetInput(const std::string& name, const float* data, size_t count) {
  auto it = inputs_.find(name);
  MX_CHECK(it != inputs_.end(), kInvalidArgument)
      << "predictor: '" << name << "' is not an input of this predictor";
  const NDArray& a = it->second;
  MX_CHECK(count == static_cast<size_t>(a.shape().Size()), kInvalidArgument)
      << "predictor: input '" << name << "' has shape " << a.shape() << " (" << a.shape().Size()
      << " values), got " << count << " values";
  a.SyncCopyFromCPU(data, count);
}

void Predictor::Forward() { exec_->Forward(/*is_train=*/false); }

const NDArray& Predictor::Output(size_t i) const {
  MX_CHECK(i < exec_->outputs().size(), kInvalidArgument)
      << "predictor: output " << i << " of " << exec_->outputs().size();
  return exec_->outputs()[i];
}

}  // namespace mx

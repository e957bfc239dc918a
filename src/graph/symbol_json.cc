// Symbol <-> JSON. The format is documented in docs/design/symbol_json.md.
//
// The reader is hand-written rather than dmlc::JSONReader because loading must never crash or
// abort on hostile input (truncated files, fuzzed bytes, deep nesting) and every error must say
// where the problem is ("nodes[3].inputs[0]: ..."). It parses into a small tree, then the tree is
// checked and turned into nodes; op parameters go through MakeAttrs, so a file is validated by
// exactly the code that validates a symbol built in memory.
#include <cerrno>
#include <cstdlib>
#include <set>
#include <sstream>
#include <unordered_map>

#include "base/error.h"
#include "graph/symbol.h"
#include "mx/version.h"
#include "op/op.h"

namespace mx {
namespace {

constexpr int64_t kFormatVersion = 1;
// Our documents nest four levels deep; the limit keeps the recursive parser off the stack's end.
constexpr int kMaxDepth = 64;

// ---- writing ----

void WriteString(const std::string& s, std::string* out) {
  static const char* kHex = "0123456789abcdef";
  out->push_back('"');
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        if (u < 0x20) {
          *out += "\\u00";
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 15]);
        } else {
          out->push_back(c);  // UTF-8 passes through unchanged
        }
    }
  }
  out->push_back('"');
}

void WriteStringMap(const std::map<std::string, std::string>& m, std::string* out) {
  *out += "{";
  bool first = true;
  for (const auto& kv : m) {
    *out += first ? "" : ", ";
    first = false;
    WriteString(kv.first, out);
    *out += ": ";
    WriteString(kv.second, out);
  }
  *out += "}";
}

void WriteEntry(int64_t node_id, uint32_t index, std::string* out) {
  *out += "[" + std::to_string(node_id) + ", " + std::to_string(index) + ", 0]";
}

// ---- a small JSON tree and its parser ----

struct JValue {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  std::string text;  // a string's contents, or a number's literal text
  std::vector<JValue> items;
  std::vector<std::pair<std::string, JValue>> members;  // in document order
};

const char* TypeName(JValue::Type t) {
  switch (t) {
    case JValue::Type::kNull:
      return "null";
    case JValue::Type::kBool:
      return "a boolean";
    case JValue::Type::kNumber:
      return "a number";
    case JValue::Type::kString:
      return "a string";
    case JValue::Type::kArray:
      return "an array";
    case JValue::Type::kObject:
      return "an object";
  }
  return "?";
}

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  JValue Document() {
    SkipSpace();
    JValue v = Value(0);
    SkipSpace();
    if (pos_ != s_.size()) Fail("unexpected text after the document");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < s_.size(); ++i) {
      column = s_[i] == '\n' ? 1 : column + 1;
      line += s_[i] == '\n' ? 1 : 0;
    }
    MX_THROW(kInvalidArgument) << "symbol JSON is not valid JSON: " << what << " at line " << line
                               << ", column " << column;
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void SkipSpace() {
    while (!AtEnd() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  void Expect(char c) {
    if (Peek() != c || AtEnd()) Fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  void Literal(const char* word) {
    for (const char* p = word; *p != '\0'; ++p, ++pos_) {
      if (Peek() != *p || AtEnd()) Fail(std::string("expected '") + word + "'");
    }
  }

  JValue Value(int depth) {
    if (depth > kMaxDepth) Fail("nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    if (AtEnd()) Fail("unexpected end of input");
    JValue v;
    const char c = Peek();
    if (c == '{') {
      v.type = JValue::Type::kObject;
      Object(depth, &v);
    } else if (c == '[') {
      v.type = JValue::Type::kArray;
      Array(depth, &v);
    } else if (c == '"') {
      v.type = JValue::Type::kString;
      v.text = String();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.type = JValue::Type::kNumber;
      v.text = Number();
    } else if (c == 't' || c == 'f') {
      v.type = JValue::Type::kBool;
      Literal(c == 't' ? "true" : "false");
      v.text = c == 't' ? "true" : "false";
    } else if (c == 'n') {
      Literal("null");
    } else {
      Fail(std::string("unexpected character '") + c + "'");
    }
    return v;
  }

  void Object(int depth, JValue* v) {
    Expect('{');
    SkipSpace();
    std::set<std::string> keys;
    if (Peek() == '}') {
      ++pos_;
      return;
    }
    for (;;) {
      SkipSpace();
      if (Peek() != '"') Fail("expected a string key");
      std::string key = String();
      if (!keys.insert(key).second) Fail("duplicate key '" + key + "'");
      SkipSpace();
      Expect(':');
      SkipSpace();
      v->members.emplace_back(std::move(key), Value(depth + 1));
      SkipSpace();
      if (Peek() == ',' && !AtEnd()) {
        ++pos_;
        continue;
      }
      Expect('}');
      return;
    }
  }

  void Array(int depth, JValue* v) {
    Expect('[');
    SkipSpace();
    if (Peek() == ']' && !AtEnd()) {
      ++pos_;
      return;
    }
    for (;;) {
      SkipSpace();
      v->items.push_back(Value(depth + 1));
      SkipSpace();
      if (Peek() == ',' && !AtEnd()) {
        ++pos_;
        continue;
      }
      Expect(']');
      return;
    }
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  uint32_t Hex4() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char c = Peek();
      if (AtEnd()) Fail("unexpected end of input in a \\u escape");
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) Fail("bad hex digit in a \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    return v;
  }

  std::string String() {
    Expect('"');
    std::string out;
    for (;;) {
      if (AtEnd()) Fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) {
        --pos_;
        Fail("control character in a string");
      }
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (AtEnd()) Fail("unterminated string");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = Hex4();
          if (cp >= 0xDC00 && cp <= 0xDFFF) Fail("unpaired surrogate in a \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (Peek() != '\\') Fail("unpaired surrogate in a \\u escape");
            ++pos_;
            if (Peek() != 'u') Fail("unpaired surrogate in a \\u escape");
            ++pos_;
            const uint32_t lo = Hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) Fail("unpaired surrogate in a \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, &out);
          break;
        }
        default:
          --pos_;
          Fail(std::string("bad escape '\\") + e + "'");
      }
    }
  }

  std::string Number() {
    const size_t start = pos_;
    auto digits = [this] {
      const size_t from = pos_;
      while (!AtEnd() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == from) Fail("expected a digit");
    };
    if (Peek() == '-') ++pos_;
    if (Peek() == '0' && !AtEnd()) {
      ++pos_;
    } else {
      digits();
    }
    if (Peek() == '.' && !AtEnd()) {
      ++pos_;
      digits();
    }
    if ((Peek() == 'e' || Peek() == 'E') && !AtEnd()) {
      ++pos_;
      if (Peek() == '+' || Peek() == '-') ++pos_;
      digits();
    }
    return s_.substr(start, pos_ - start);
  }

  const std::string& s_;
  size_t pos_ = 0;
};

// ---- typed access; errors name the path of the bad value ("nodes[3].inputs[0]") ----

[[noreturn]] void Bad(const std::string& path, const std::string& what) {
  MX_THROW(kInvalidArgument) << "symbol JSON: " << path << ": " << what;
}

const JValue& Expect(const JValue& v, JValue::Type t, const std::string& path) {
  if (v.type != t) Bad(path, std::string("expected ") + TypeName(t) + ", got " + TypeName(v.type));
  return v;
}

const JValue* Member(const JValue& obj, const std::string& key) {
  for (const auto& kv : obj.members) {
    if (kv.first == key) return &kv.second;
  }
  return nullptr;
}

const JValue& Required(const JValue& obj, const std::string& key, JValue::Type t,
                       const std::string& path) {
  const JValue* v = Member(obj, key);
  if (v == nullptr) Bad(path, "missing key '" + key + "'");
  return Expect(*v, t, path.empty() ? key : path + "." + key);
}

int64_t AsInt(const JValue& v, const std::string& path) {
  Expect(v, JValue::Type::kNumber, path);
  const bool integral = v.text.find_first_of(".eE") == std::string::npos;
  errno = 0;
  char* end = nullptr;
  const long long x = integral ? std::strtoll(v.text.c_str(), &end, 10) : 0;
  if (!integral || errno == ERANGE || end == nullptr || *end != '\0')
    Bad(path, "expected an integer, got " + v.text);
  return x;
}

std::map<std::string, std::string> AsStringMap(const JValue& v, const std::string& path) {
  Expect(v, JValue::Type::kObject, path);
  std::map<std::string, std::string> m;
  for (const auto& kv : v.members) {
    m[kv.first] = Expect(kv.second, JValue::Type::kString, path + "." + kv.first).text;
  }
  return m;
}

std::string NodePath(size_t i) { return "nodes[" + std::to_string(i) + "]"; }

// An input or head entry: [node_id, output_index, version] (the version is ignored, but must be
// there: an entry of another length is a damaged file, not a shorthand). It may refer to the
// first `limit` nodes: for a node's input, the nodes before it, which rules out cycles.
NodeEntry ReadEntry(const JValue& v, const std::vector<NodePtr>& nodes, size_t limit,
                    const std::string& path, bool is_input) {
  Expect(v, JValue::Type::kArray, path);
  if (v.items.size() != 3)
    Bad(path, "expected [node_id, output_index, 0], got " + std::to_string(v.items.size()) +
                  (v.items.size() == 1 ? " element" : " elements"));
  const int64_t id = AsInt(v.items[0], path + "[0]");
  const int64_t index = AsInt(v.items[1], path + "[1]");
  AsInt(v.items[2], path + "[2]");
  if (id < 0 || static_cast<uint64_t>(id) >= limit) {
    Bad(path, "node id " + std::to_string(id) +
                  (is_input ? " is not an earlier node: inputs come before the nodes that use "
                              "them (no cycles or forward references), and " +
                                  std::to_string(limit) + " nodes precede this one"
                            : " is out of range: there are " + std::to_string(limit) + " nodes"));
  }
  const NodePtr& node = nodes[id];
  const int n_out = node->num_outputs();
  if (index < 0 || index >= n_out) {
    Bad(path, "output index " + std::to_string(index) + " is out of range: node " +
                  std::to_string(id) + " ('" + node->attrs.name + "') has " +
                  std::to_string(n_out) + " output" + (n_out == 1 ? "" : "s"));
  }
  return NodeEntry{node, static_cast<uint32_t>(index)};
}

// MXNet stored user attributes among op parameters as "__key__"; they are not parameters.
bool IsDunder(const std::string& key) {
  return key.size() > 4 && key.compare(0, 2, "__") == 0 &&
         key.compare(key.size() - 2, 2, "__") == 0;
}

NodePtr ReadNode(const JValue& v, size_t i, const std::vector<NodePtr>& earlier) {
  const std::string path = NodePath(i);
  Expect(v, JValue::Type::kObject, path);
  const std::string& op_name = Required(v, "op", JValue::Type::kString, path).text;
  const std::string& name = Required(v, "name", JValue::Type::kString, path).text;
  const JValue& inputs = Required(v, "inputs", JValue::Type::kArray, path);
  std::map<std::string, std::string> params, user;
  if (const JValue* a = Member(v, "attrs")) params = AsStringMap(*a, path + ".attrs");
  if (const JValue* u = Member(v, "user_attrs")) user = AsStringMap(*u, path + ".user_attrs");
  const std::string where = path + " ('" + name + "')";

  auto node = std::make_shared<Node>();
  node->attrs.name = name;
  if (op_name == "null") {
    if (name.empty()) Bad(path, "a variable needs a non-empty name");
    if (!inputs.items.empty()) Bad(where, "a variable has no inputs");
    // A variable has no parameters: MXNet kept its attributes (__shape__, ...) under "attrs".
    for (auto& kv : params) user.insert(kv);
    node->user_attrs = std::move(user);
    return node;
  }
  const Op* op = OpRegistry::Get()->Find(op_name);
  if (op == nullptr) {
    try {
      OpRegistry::Get()->Get(op_name);  // for its "did you mean" suggestion
    } catch (const Error& e) {
      Bad(where, e.what());
    }
    Bad(where, "unknown operator '" + op_name + "'");
  }
  for (auto it = params.begin(); it != params.end();) {
    if (!IsDunder(it->first)) {
      ++it;
      continue;
    }
    user.insert(*it);
    it = params.erase(it);
  }
  for (const auto& kv : user) {
    if (params.count(kv.first))
      Bad(where, "'" + kv.first + "' is both a parameter and a user attribute");
  }
  int expected = 0;
  try {
    node->attrs = MakeAttrs(op, params, name);
    expected = op->NumInputs(node->attrs);
    op->NumOutputs(node->attrs);  // parameter-dependent counts must be computable
  } catch (const std::exception& e) {
    Bad(where, e.what());
  }
  node->user_attrs = std::move(user);
  if (inputs.items.size() != static_cast<size_t>(expected)) {
    Bad(where, "operator '" + op_name + "' takes " + std::to_string(expected) + " inputs, got " +
                   std::to_string(inputs.items.size()));
  }
  for (size_t k = 0; k < inputs.items.size(); ++k) {
    node->inputs.push_back(
        ReadEntry(inputs.items[k], earlier, i, path + ".inputs[" + std::to_string(k) + "]", true));
  }
  return node;
}

void CheckVersion(const JValue& root) {
  const JValue* attrs = Member(root, "attrs");
  if (attrs == nullptr) return;  // MXNet and NNVM files: format 1
  Expect(*attrs, JValue::Type::kObject, "attrs");
  for (const char* key : {"format_version", "mx_version"}) {
    const JValue* v = Member(*attrs, key);
    if (v == nullptr) continue;
    const std::string path = std::string("attrs.") + key;
    Expect(*v, JValue::Type::kArray, path);
    if (v->items.size() != 2 || v->items[0].type != JValue::Type::kString ||
        v->items[0].text != "int")
      Bad(path, "expected [\"int\", <number>]");
    const int64_t n = AsInt(v->items[1], path + "[1]");
    if (std::string(key) == "format_version" && (n < 1 || n > kFormatVersion)) {
      Bad(path, "format version " + std::to_string(n) + " is not supported: this libmx reads " +
                    "versions 1 to " + std::to_string(kFormatVersion));
    }
  }
}

}  // namespace

std::string Symbol::ToJSON() const {
  std::vector<NodePtr> order;
  std::unordered_map<const Node*, int64_t> ids;
  DFSVisit(outputs, [&](const NodePtr& n) {
    ids[n.get()] = static_cast<int64_t>(order.size());
    order.push_back(n);
  });
  std::string out = "{\n  \"nodes\": [";
  std::vector<int64_t> row_ptr{0}, arg_nodes;
  for (size_t i = 0; i < order.size(); ++i) {
    const Node& n = *order[i];
    MX_CHECK(n.is_variable() || static_cast<int>(n.inputs.size()) == n.num_inputs(),
             kInvalidArgument)
        << "cannot save node '" << n.attrs.name << "' (operator '" << n.attrs.op->name
        << "'): it has not been composed with its inputs";
    if (n.is_variable()) arg_nodes.push_back(static_cast<int64_t>(i));
    row_ptr.push_back(row_ptr.back() + n.num_outputs());
    out += i == 0 ? "\n    {\n" : ",\n    {\n";
    out += "      \"op\": ";
    WriteString(n.is_variable() ? "null" : n.attrs.op->name, &out);
    out += ",\n      \"name\": ";
    WriteString(n.attrs.name, &out);
    if (!n.attrs.dict.empty()) {
      out += ",\n      \"attrs\": ";
      WriteStringMap(n.attrs.dict, &out);
    }
    if (!n.user_attrs.empty()) {
      out += ",\n      \"user_attrs\": ";
      WriteStringMap(n.user_attrs, &out);
    }
    out += ",\n      \"inputs\": [";
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      out += k == 0 ? "" : ", ";
      WriteEntry(ids.at(n.inputs[k].node.get()), n.inputs[k].index, &out);
    }
    out += "]\n    }";
  }
  out += order.empty() ? "],\n" : "\n  ],\n";
  auto int_list = [&out](const std::vector<int64_t>& v) {
    out += "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i == 0 ? "" : ", ") + std::to_string(v[i]);
    out += "]";
  };
  out += "  \"arg_nodes\": ";
  int_list(arg_nodes);
  out += ",\n  \"node_row_ptr\": ";
  int_list(row_ptr);
  out += ",\n  \"heads\": [";
  for (size_t k = 0; k < outputs.size(); ++k) {
    out += k == 0 ? "" : ", ";
    WriteEntry(ids.at(outputs[k].node.get()), outputs[k].index, &out);
  }
  out += "],\n  \"attrs\": {\"mx_version\": [\"int\", " + std::to_string(MX_VERSION) +
         "], \"format_version\": [\"int\", " + std::to_string(kFormatVersion) + "]}\n}\n";
  return out;
}

Symbol Symbol::FromJSON(const std::string& json) {
  const JValue root = Parser(json).Document();
  Expect(root, JValue::Type::kObject, "the document");
  CheckVersion(root);
  const JValue& nodes = Required(root, "nodes", JValue::Type::kArray, "");
  const JValue& arg_nodes = Required(root, "arg_nodes", JValue::Type::kArray, "");
  const JValue& heads = Required(root, "heads", JValue::Type::kArray, "");

  std::vector<NodePtr> built;
  built.reserve(nodes.items.size());
  // Variables are bound, inferred and checkpointed by name: two of one name would silently
  // share every shape, type and array given for it.
  std::unordered_map<std::string, size_t> var_ids;
  for (size_t i = 0; i < nodes.items.size(); ++i) {
    built.push_back(ReadNode(nodes.items[i], i, built));
    if (!built.back()->is_variable()) continue;
    const auto seen = var_ids.emplace(built.back()->attrs.name, i);
    if (!seen.second)
      Bad(NodePath(i), "variable '" + built.back()->attrs.name + "' is already nodes[" +
                           std::to_string(seen.first->second) + "]: variable names must be unique");
  }

  // arg_nodes must list exactly the variables: a mismatch means the file was edited or cut.
  std::set<int64_t> args;
  size_t num_vars = 0;
  for (const NodePtr& n : built) num_vars += n->is_variable() ? 1 : 0;
  for (size_t k = 0; k < arg_nodes.items.size(); ++k) {
    const std::string path = "arg_nodes[" + std::to_string(k) + "]";
    const int64_t id = AsInt(arg_nodes.items[k], path);
    if (id < 0 || static_cast<uint64_t>(id) >= built.size())
      Bad(path, "node id " + std::to_string(id) + " is out of range: there are " +
                    std::to_string(built.size()) + " nodes");
    if (!built[id]->is_variable())
      Bad(path, "node " + std::to_string(id) + " ('" + built[id]->attrs.name +
                    "') is an operator, not a variable");
    if (!args.insert(id).second) Bad(path, "node " + std::to_string(id) + " is listed twice");
  }
  if (args.size() != num_vars) {
    Bad("arg_nodes", "lists " + std::to_string(args.size()) + " nodes but the graph has " +
                         std::to_string(num_vars) + " variables");
  }

  if (const JValue* rows = Member(root, "node_row_ptr")) {
    Expect(*rows, JValue::Type::kArray, "node_row_ptr");
    if (rows->items.size() != built.size() + 1)
      Bad("node_row_ptr", "expected " + std::to_string(built.size() + 1) + " numbers, got " +
                              std::to_string(rows->items.size()));
    int64_t expected = 0;
    for (size_t k = 0; k < rows->items.size(); ++k) {
      const std::string path = "node_row_ptr[" + std::to_string(k) + "]";
      if (AsInt(rows->items[k], path) != expected)
        Bad(path, "expected " + std::to_string(expected) + " (the outputs of earlier nodes)");
      if (k < built.size()) expected += built[k]->num_outputs();
    }
  }

  Symbol s;
  for (size_t k = 0; k < heads.items.size(); ++k) {
    s.outputs.push_back(
        ReadEntry(heads.items[k], built, built.size(), "heads[" + std::to_string(k) + "]", false));
  }
  return s;
}

}  // namespace mx

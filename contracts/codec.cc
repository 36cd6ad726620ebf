#include "contracts/codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace cl::contracts {

Bytes Encode(const google::protobuf::MessageLite& msg) {
  Bytes out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    CL_CHECK(msg.SerializeToCodedStream(&coded), "a record failed to serialize");
  }
  return out;
}

}  // namespace cl::contracts

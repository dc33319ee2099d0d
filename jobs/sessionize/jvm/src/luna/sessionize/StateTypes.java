package luna.sessionize;

import java.io.IOException;

import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

/** The state types of the keyed functions, and a snapshot round trip through the same serializer (tests use it to
 *  restore a machine mid-history, as a checkpoint restore would). */
public final class StateTypes {
    static final TypeInformation<SessionMachine> SESSION = TypeInformation.of(SessionMachine.class);
    static final TypeInformation<JoinRouter> ROUTER = TypeInformation.of(JoinRouter.class);

    private StateTypes() {}

    public static SessionMachine roundTrip(SessionMachine machine) throws IOException {
        return roundTrip(machine, SESSION);
    }

    public static JoinRouter roundTrip(JoinRouter router) throws IOException {
        return roundTrip(router, ROUTER);
    }

    private static <T> T roundTrip(T value, TypeInformation<T> type) throws IOException {
        TypeSerializer<T> serializer = type.createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(1024);
        serializer.serialize(value, out);
        return serializer.deserialize(new DataInputDeserializer(out.getSharedBuffer(), 0, out.length()));
    }
}

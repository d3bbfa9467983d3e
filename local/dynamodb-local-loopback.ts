/**
 * DynamoDB Local on 127.0.0.1 only, for as long as the process that started it lives. Its command line
 * has no host option: it builds Jetty with `new Server(port)`, which listens on every interface, so anyone
 * on the network could read and write a developer's local tables. This launcher does what DynamoDB
 * Local's own `ServerRunner.main` does, minus the telemetry set-up (never configured, so never sent), with
 * one step before the server starts (its one connector gets the host 127.0.0.1) and one after: it reads
 * its standard input, a pipe from Node, to the end, and exits there. So a JVM whose parent was killed
 * (SIGKILL, a crash) does not keep running.
 *
 *   DynamoDBProxyServer server = ServerRunner.createServerFromCommandLineArgs(args);
 *   Field jetty = DynamoDBProxyServer.class.getDeclaredField("server");
 *   jetty.setAccessible(true);
 *   ((ServerConnector) ((Server) jetty.get(server)).getConnectors()[0]).setHost("127.0.0.1");
 *   server.start();
 *   System.in.transferTo(OutputStream.nullOutputStream());
 *   System.exit(0);
 *
 * The class file is written here byte by byte (some thirty instructions, no branch) because a Java runtime,
 * which is all the README asks for, cannot compile Java source.
 */

export const LOOPBACK_MAIN_CLASS = 'AnimeLogLoopbackDynamoDBLocal';

const PROXY_SERVER = 'software/amazon/dynamodb/services/local/server/DynamoDBProxyServer';
const SERVER_RUNNER = 'software/amazon/dynamodb/services/local/main/ServerRunner';
const JETTY_SERVER = 'org/eclipse/jetty/server/Server';
const SERVER_CONNECTOR = 'org/eclipse/jetty/server/ServerConnector';

/** A class file's constant pool: entries are added once and referred to by index. */
class ConstantPool {
  private readonly entries: Buffer[] = [];
  private readonly indexes = new Map<string, number>();

  private add(key: string, bytes: Buffer): number {
    const known = this.indexes.get(key);
    if (known !== undefined) return known;
    this.entries.push(bytes);
    const index = this.entries.length; // constant pool indexes start at 1
    this.indexes.set(key, index);
    return index;
  }

  utf8(text: string): number {
    const bytes = Buffer.from(text, 'utf8'); // the names used here are ASCII: modified UTF-8 is plain UTF-8
    return this.add(`utf8:${text}`, Buffer.concat([Buffer.from([1]), u2(bytes.length), bytes]));
  }

  classRef(internalName: string): number {
    return this.add(`class:${internalName}`, Buffer.concat([Buffer.from([7]), u2(this.utf8(internalName))]));
  }

  string(text: string): number {
    return this.add(`string:${text}`, Buffer.concat([Buffer.from([8]), u2(this.utf8(text))]));
  }

  methodRef(owner: string, name: string, descriptor: string): number {
    return this.add(`method:${owner}.${name}${descriptor}`, Buffer.concat([Buffer.from([10]), u2(this.classRef(owner)), u2(this.nameAndType(name, descriptor))]));
  }

  fieldRef(owner: string, name: string, descriptor: string): number {
    return this.add(`field:${owner}.${name}${descriptor}`, Buffer.concat([Buffer.from([9]), u2(this.classRef(owner)), u2(this.nameAndType(name, descriptor))]));
  }

  private nameAndType(name: string, descriptor: string): number {
    return this.add(`nat:${name}:${descriptor}`, Buffer.concat([Buffer.from([12]), u2(this.utf8(name)), u2(this.utf8(descriptor))]));
  }

  bytes(): Buffer {
    return Buffer.concat([u2(this.entries.length + 1), ...this.entries]);
  }
}

function u2(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(value);
  return b;
}

function u4(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(value);
  return b;
}

// The JVM opcodes used.
const ALOAD_0 = 0x2a;
const ALOAD_1 = 0x2b;
const ALOAD_2 = 0x2c;
const ASTORE_1 = 0x4c;
const ASTORE_2 = 0x4d;
const ICONST_0 = 0x03;
const ICONST_1 = 0x04;
const AALOAD = 0x32;
const LDC_W = 0x13;
const POP2 = 0x58;
const GETSTATIC = 0xb2;
const INVOKESTATIC = 0xb8;
const INVOKEVIRTUAL = 0xb6;
const CHECKCAST = 0xc0;
const RETURN = 0xb1;

/** The launcher's class file (Java 8 format, so no stack map is needed for code without branches). */
export function loopbackLauncherClass(): Buffer {
  const pool = new ConstantPool();
  const op = (code: number, index?: number) => (index === undefined ? Buffer.from([code]) : Buffer.concat([Buffer.from([code]), u2(index)]));
  const code = Buffer.concat([
    op(ALOAD_0),
    op(INVOKESTATIC, pool.methodRef(SERVER_RUNNER, 'createServerFromCommandLineArgs', `([Ljava/lang/String;)L${PROXY_SERVER};`)),
    op(ASTORE_1),
    op(LDC_W, pool.classRef(PROXY_SERVER)),
    op(LDC_W, pool.string('server')),
    op(INVOKEVIRTUAL, pool.methodRef('java/lang/Class', 'getDeclaredField', '(Ljava/lang/String;)Ljava/lang/reflect/Field;')),
    op(ASTORE_2),
    op(ALOAD_2),
    op(ICONST_1),
    op(INVOKEVIRTUAL, pool.methodRef('java/lang/reflect/Field', 'setAccessible', '(Z)V')),
    op(ALOAD_2),
    op(ALOAD_1),
    op(INVOKEVIRTUAL, pool.methodRef('java/lang/reflect/Field', 'get', '(Ljava/lang/Object;)Ljava/lang/Object;')),
    op(CHECKCAST, pool.classRef(JETTY_SERVER)),
    op(INVOKEVIRTUAL, pool.methodRef(JETTY_SERVER, 'getConnectors', '()[Lorg/eclipse/jetty/server/Connector;')),
    op(ICONST_0),
    op(AALOAD),
    op(CHECKCAST, pool.classRef(SERVER_CONNECTOR)),
    op(LDC_W, pool.string('127.0.0.1')),
    op(INVOKEVIRTUAL, pool.methodRef(SERVER_CONNECTOR, 'setHost', '(Ljava/lang/String;)V')),
    op(ALOAD_1),
    op(INVOKEVIRTUAL, pool.methodRef(PROXY_SERVER, 'start', '()V')),
    op(GETSTATIC, pool.fieldRef('java/lang/System', 'in', 'Ljava/io/InputStream;')),
    op(INVOKESTATIC, pool.methodRef('java/io/OutputStream', 'nullOutputStream', '()Ljava/io/OutputStream;')),
    op(INVOKEVIRTUAL, pool.methodRef('java/io/InputStream', 'transferTo', '(Ljava/io/OutputStream;)J')),
    op(POP2),
    op(ICONST_0),
    op(INVOKESTATIC, pool.methodRef('java/lang/System', 'exit', '(I)V')),
    op(RETURN),
  ]);
  const codeAttribute = Buffer.concat([
    u2(3), // max_stack (a long counts twice)
    u2(3), // max_locals: args, server, field
    u4(code.length),
    code,
    u2(0), // exception table
    u2(0), // attributes
  ]);
  const main = Buffer.concat([
    u2(0x0009), // public static
    u2(pool.utf8('main')),
    u2(pool.utf8('([Ljava/lang/String;)V')),
    u2(1),
    u2(pool.utf8('Code')),
    u4(codeAttribute.length),
    codeAttribute,
  ]);
  const thisClass = pool.classRef(LOOPBACK_MAIN_CLASS);
  const superClass = pool.classRef('java/lang/Object');
  return Buffer.concat([
    u4(0xcafebabe),
    u2(0), // minor version
    u2(52), // major version: Java 8
    pool.bytes(),
    u2(0x0021), // public super
    u2(thisClass),
    u2(superClass),
    u2(0), // interfaces
    u2(0), // fields
    u2(1), // methods
    main,
    u2(0), // attributes
  ]);
}
